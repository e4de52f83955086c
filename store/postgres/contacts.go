package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
			return fmt.Errorf("postgres: save contact %q: empty group name", c.Name)
		}
	}
	now := defaults.TruncMS(time.Now())
	id, created := c.ID, defaults.TruncMS(c.CreatedAt)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if c.ID == 0 {
			if created.IsZero() {
				created = now
			}
			err = tx.QueryRow(ctx, `INSERT INTO contacts (name, phone, memo, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, c.Name, string(c.Phone), c.Memo, created, now).Scan(&id)
		} else {
			err = tx.QueryRow(ctx, `UPDATE contacts SET name = $1, phone = $2, memo = $3, updated_at = $4
				WHERE id = $5 RETURNING created_at`, c.Name, string(c.Phone), c.Memo, now, id).Scan(at(&created))
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("contact %d: %w", id, store.ErrNotFound)
			}
			if err == nil {
				_, err = tx.Exec(ctx, `DELETE FROM group_members WHERE contact_id = $1`, id)
			}
		}
		if isUnique(err) {
			return fmt.Errorf("contact phone %s: %w", c.Phone, store.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("postgres: save contact %q: %w", c.Name, err)
		}
		if len(groups) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO groups (name, created_at) SELECT g, $2 FROM unnest($1::text[]) AS g
			ON CONFLICT (name) DO NOTHING`, groups, now); err != nil {
			return fmt.Errorf("postgres: create groups %q: %w", groups, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_members (group_id, contact_id)
			SELECT id, $2 FROM groups WHERE name = ANY($1)`, groups, id); err != nil {
			return fmt.Errorf("postgres: add contact %d to groups %q: %w", id, groups, err)
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

func contactDst(c *store.Contact) []any {
	return []any{&c.ID, &c.Name, &c.Phone, &c.Memo, at(&c.CreatedAt), at(&c.UpdatedAt)}
}

// GetContact implements store.Contacts.
func (db *DB) GetContact(ctx context.Context, id int64) (*store.Contact, error) {
	var c store.Contact
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT `+contactCols+` FROM contacts c WHERE c.id = $1`, id).Scan(contactDst(&c)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("contact %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: get contact %d: %w", id, err)
		}
		cs := []store.Contact{c}
		if err := attachGroups(ctx, tx, cs); err != nil {
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
	t, err := db.exec(ctx, `DELETE FROM contacts WHERE id = $1`, id)
	return tag(t, err, fmt.Sprintf("contact %d", id))
}

// ListContacts implements store.Contacts. q is a case-insensitive
// substring of the name, phone or memo; limit <= 0 means all.
func (db *DB) ListContacts(ctx context.Context, q string, limit, offset int) ([]store.Contact, error) {
	var a args
	sel := `SELECT ` + contactCols + ` FROM contacts c`
	if q != "" {
		p := a.add(likeArg(q))
		sel += ` WHERE c.name ILIKE ` + p + ` OR c.phone ILIKE ` + p + ` OR c.memo ILIKE ` + p
	}
	sel += ` ORDER BY c.name, c.id`
	if limit > 0 {
		sel += ` LIMIT ` + a.add(limit)
	}
	sel += ` OFFSET ` + a.add(max(offset, 0))
	var out []store.Contact
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = queryAll(ctx, tx, sel, a, contactDst); err != nil {
			return fmt.Errorf("postgres: list contacts: %w", err)
		}
		return attachGroups(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attachGroups fills in the group names of cs.
func attachGroups(ctx context.Context, q querier, cs []store.Contact) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	rows, err := q.Query(ctx, `SELECT gm.contact_id, g.name FROM group_members gm
		JOIN groups g ON g.id = gm.group_id
		WHERE gm.contact_id = ANY($1) ORDER BY g.name`, ids)
	if err != nil {
		return fmt.Errorf("postgres: load contact groups: %w", err)
	}
	defer rows.Close()
	if err := rowscan.ContactGroups(rows, cs); err != nil {
		return fmt.Errorf("postgres: load contact groups: %w", err)
	}
	return nil
}

// CreateGroup implements store.Contacts.
func (db *DB) CreateGroup(ctx context.Context, name string) (*store.Group, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("postgres: create group: empty name")
	}
	var id int64
	err := db.queryRow(ctx, `INSERT INTO groups (name, created_at) VALUES ($1, $2) RETURNING id`,
		[]any{name, defaults.TruncMS(time.Now())}, &id)
	if isUnique(err) {
		return nil, fmt.Errorf("group %q: %w", name, store.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: create group %q: %w", name, err)
	}
	return &store.Group{ID: id, Name: name}, nil
}

// DeleteGroup implements store.Contacts. Its members stay in the address book.
func (db *DB) DeleteGroup(ctx context.Context, name string) error {
	t, err := db.exec(ctx, `DELETE FROM groups WHERE name = $1`, name)
	return tag(t, err, fmt.Sprintf("group %q", name))
}

// ListGroups implements store.Contacts, ordered by name.
func (db *DB) ListGroups(ctx context.Context) ([]store.Group, error) {
	var out []store.Group
	err := db.withConn(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT g.id, g.name, count(gm.contact_id) FROM groups g
			LEFT JOIN group_members gm ON gm.group_id = g.id GROUP BY g.id ORDER BY g.name`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g store.Group
			if err := rows.Scan(&g.ID, &g.Name, &g.Members); err != nil {
				return err
			}
			out = append(out, g)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list groups: %w", err)
	}
	return out, nil
}

// GroupPhones implements store.Contacts, ordered by contact name.
func (db *DB) GroupPhones(ctx context.Context, name string) ([]sms.Phone, error) {
	var out []sms.Phone
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var gid int64
		err := tx.QueryRow(ctx, `SELECT id FROM groups WHERE name = $1`, name).Scan(&gid)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("group %q: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: group %q: %w", name, err)
		}
		rows, err := tx.Query(ctx, `SELECT c.phone FROM contacts c
			JOIN group_members gm ON gm.contact_id = c.id
			WHERE gm.group_id = $1 ORDER BY c.name, c.id`, gid)
		if err != nil {
			return fmt.Errorf("postgres: group %q phones: %w", name, err)
		}
		defer rows.Close()
		if out, err = rowscan.Collect(rows, rowscan.Value[sms.Phone]); err != nil {
			return fmt.Errorf("postgres: group %q phones: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
