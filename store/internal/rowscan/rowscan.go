// Package rowscan reads query results the same way for both stores:
// database/sql's *sql.Rows and pgx's pgx.Rows both satisfy Rows.
package rowscan

import "github.com/munja-sms/munja/store"

// Scanner is one row to scan: a row of Rows, *sql.Row or pgx.Row.
type Scanner interface{ Scan(dest ...any) error }

// Rows is a result set being read. Closing it stays with the caller.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Collect scans every remaining row of rows with scan.
func Collect[T any](rows Rows, scan func(Scanner, *T) error) ([]T, error) {
	var out []T
	for rows.Next() {
		var v T
		if err := scan(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Value scans a one-column row into *v, for Collect.
func Value[T any](s Scanner, v *T) error { return s.Scan(v) }

// ContactGroups reads rows of (contact ID, group name), ordered by name,
// and appends each name to the Groups of the contact of cs with that ID.
// Rows of other contacts are skipped.
func ContactGroups(rows Rows, cs []store.Contact) error {
	idx := make(map[int64]int, len(cs))
	for i, c := range cs {
		idx[c.ID] = i
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return err
		}
		if i, ok := idx[id]; ok {
			cs[i].Groups = append(cs[i].Groups, name)
		}
	}
	return rows.Err()
}
