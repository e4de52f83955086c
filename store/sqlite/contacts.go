package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/munja-sms/munja/sms"
	"github.com/munja-sms/munja/store"
	"github.com/munja-sms/munja/store/internal/defaults"
	"github.com/munja-sms/munja/store/internal/rowscan"
)

// SaveContact implements store.Contacts. c.Groups is stored sorted and
// without duplicates, and c is updated to match.
func (db *DB) SaveContact(ctx context.Context, c *store.Contact) error {
	groups := slices.Clone(c.Groups)
	slices.Sort(groups)
	groups = slices.Compact(groups)
	for _, g := range groups {
		if strings.TrimSpace(g) == "" {
			return fmt.Errorf("sqlite: save contact %q: empty group name", c.Name)
		}
	}
	now := defaults.TruncMS(time.Now())
	id, created := c.ID, defaults.TruncMS(c.CreatedAt)
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if id == 0 {
			if created.IsZero() {
				created = now
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO contacts (name, phone, memo, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, c.Name, string(c.Phone), c.Memo, created.UnixMilli(), now.UnixMilli())
			if isUnique(err) {
				return fmt.Errorf("contact phone %s: %w", c.Phone, store.ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("sqlite: insert contact: %w", err)
			}
			if id, err = res.LastInsertId(); err != nil {
				return fmt.Errorf("sqlite: insert contact: %w", err)
			}
		} else {
			var cr int64
			err := tx.QueryRowContext(ctx, `UPDATE contacts SET name = ?, phone = ?, memo = ?, updated_at = ?
				WHERE id = ? RETURNING created_at`, c.Name, string(c.Phone), c.Memo, now.UnixMilli(), id).Scan(&cr)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("contact %d: %w", id, store.ErrNotFound)
			}
			if isUnique(err) {
				return fmt.Errorf("contact phone %s: %w", c.Phone, store.ErrConflict)
			}
			if err != nil {
				return fmt.Errorf("sqlite: update contact %d: %w", id, err)
			}
			created = time.UnixMilli(cr).UTC()
			if _, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE contact_id = ?`, id); err != nil {
				return fmt.Errorf("sqlite: update contact %d: %w", id, err)
			}
		}
		for _, g := range groups {
			if _, err := tx.ExecContext(ctx, `INSERT INTO groups (name, created_at) VALUES (?, ?)
				ON CONFLICT (name) DO NOTHING`, g, now.UnixMilli()); err != nil {
				return fmt.Errorf("sqlite: create group %q: %w", g, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO group_members (group_id, contact_id)
				SELECT id, ? FROM groups WHERE name = ?`, id, g); err != nil {
				return fmt.Errorf("sqlite: add contact %d to group %q: %w", id, g, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.Groups = id, created, now, groups
	return nil
}

const contactCols = `c.id, c.name, c.phone, c.memo, c.created_at, c.updated_at`

func scanContact(s scanner, c *store.Contact) error {
	var created, updated sql.NullInt64
	if err := s.Scan(&c.ID, &c.Name, &c.Phone, &c.Memo, &created, &updated); err != nil {
		return err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return nil
}

// GetContact implements store.Contacts.
func (db *DB) GetContact(ctx context.Context, id int64) (*store.Contact, error) {
	var c store.Contact
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		err := scanContact(tx.QueryRowContext(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.id = ?`, id), &c)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("contact %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: get contact %d: %w", id, err)
		}
		cs := []store.Contact{c}
		if err := attachGroups(ctx, tx, cs, `SELECT ?`, []any{id}); err != nil {
			return err
		}
		c = cs[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteContact implements store.Contacts.
func (db *DB) DeleteContact(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM contacts WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("contact %d", id))
}

// ListContacts implements store.Contacts. q is a case-insensitive (for
// ASCII) substring of the name, phone or memo; limit <= 0 means all.
func (db *DB) ListContacts(ctx context.Context, q string, limit, offset int) ([]store.Contact, error) {
	sel := `SELECT c.id FROM contacts c`
	var args []any
	if q != "" {
		sel += ` WHERE c.name LIKE ?1 ESCAPE '\' OR c.phone LIKE ?1 ESCAPE '\' OR c.memo LIKE ?1 ESCAPE '\'`
		args = append(args, likeArg(q))
	}
	if limit <= 0 {
		limit = -1
	}
	sel += fmt.Sprintf(` ORDER BY c.name, c.id LIMIT %d OFFSET %d`, limit, max(offset, 0))

	var out []store.Contact
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.id IN (`+sel+`)
			ORDER BY c.name, c.id`, args...)
		if err != nil {
			return fmt.Errorf("sqlite: list contacts: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c store.Contact
			if err := scanContact(rows, &c); err != nil {
				return fmt.Errorf("sqlite: list contacts: %w", err)
			}
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: list contacts: %w", err)
		}
		rows.Close()
		return attachGroups(ctx, tx, out, sel, args)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attachGroups fills in the group names of cs, whose IDs the query sel (with
// args) selects.
func attachGroups(ctx context.Context, tx *sql.Tx, cs []store.Contact, sel string, args []any) error {
	if len(cs) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT gm.contact_id, g.name FROM group_members gm
		JOIN groups g ON g.id = gm.group_id
		WHERE gm.contact_id IN (`+sel+`) ORDER BY g.name`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: load contact groups: %w", err)
	}
	defer rows.Close()
	if err := rowscan.ContactGroups(rows, cs); err != nil {
		return fmt.Errorf("sqlite: load contact groups: %w", err)
	}
	return nil
}

// CreateGroup implements store.Contacts.
func (db *DB) CreateGroup(ctx context.Context, name string) (*store.Group, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("sqlite: create group: empty name")
	}
	res, err := db.exec(ctx, `INSERT INTO groups (name, created_at) VALUES (?, ?)`, name, time.Now().UnixMilli())
	if isUnique(err) {
		return nil, fmt.Errorf("group %q: %w", name, store.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: create group %q: %w", name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, fmt.Errorf("sqlite: create group %q: %w", name, err)
	}
	return &store.Group{ID: id, Name: name}, nil
}

// DeleteGroup implements store.Contacts. Its members stay in the address book.
func (db *DB) DeleteGroup(ctx context.Context, name string) error {
	res, err := db.exec(ctx, `DELETE FROM groups WHERE name = ?`, name)
	return affectedOne(res, err, fmt.Sprintf("group %q", name))
}

// ListGroups implements store.Contacts, ordered by name.
func (db *DB) ListGroups(ctx context.Context) ([]store.Group, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT g.id, g.name, count(gm.contact_id) FROM groups g
		LEFT JOIN group_members gm ON gm.group_id = g.id GROUP BY g.id ORDER BY g.name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list groups: %w", err)
	}
	defer rows.Close()
	var out []store.Group
	for rows.Next() {
		var g store.Group
		if err := rows.Scan(&g.ID, &g.Name, &g.Members); err != nil {
			return nil, fmt.Errorf("sqlite: list groups: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list groups: %w", err)
	}
	return out, nil
}

// GroupPhones implements store.Contacts, ordered by contact name.
func (db *DB) GroupPhones(ctx context.Context, name string) ([]sms.Phone, error) {
	var out []sms.Phone
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var gid int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE name = ?`, name).Scan(&gid)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("group %q: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: group %q: %w", name, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.phone FROM contacts c
			JOIN group_members gm ON gm.contact_id = c.id
			WHERE gm.group_id = ? ORDER BY c.name, c.id`, gid)
		if err != nil {
			return fmt.Errorf("sqlite: group %q phones: %w", name, err)
		}
		defer rows.Close()
		if out, err = rowscan.Collect(rows, rowscan.Value[sms.Phone]); err != nil {
			return fmt.Errorf("sqlite: group %q phones: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
