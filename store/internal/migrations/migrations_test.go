package migrations

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func fsOf(files ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range files {
		fsys[f] = &fstest.MapFile{Data: []byte("-- " + f)}
	}
	return fsys
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    []int  // versions in order
		wantErr string // substring; "" = no error
	}{
		{"empty", nil, nil, ""},
		{"ordered by number", []string{"migrations/0010_c.sql", "migrations/0002_b.sql", "migrations/0001_a.sql"}, []int{1, 2, 10}, ""},
		{"other files ignored", []string{"migrations/0001_a.sql", "migrations/README.md", "other/0002_b.sql"}, []int{1}, ""},
		{"no number", []string{"migrations/init.sql"}, nil, "NNNN_name.sql"},
		{"no underscore", []string{"migrations/0001.sql"}, nil, "NNNN_name.sql"},
		{"zero", []string{"migrations/0000_init.sql"}, nil, "NNNN_name.sql"},
		{"negative", []string{"migrations/-1_init.sql"}, nil, "NNNN_name.sql"},
		{"duplicates", []string{"migrations/0001_a.sql", "migrations/0001_b.sql"}, nil, "share version 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(fsOf(tt.files...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load = %+v, %v; want an error with %q", ms, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
				if m.SQL != "-- migrations/"+m.Name {
					t.Errorf("%s: SQL %q", m.Name, m.SQL)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("versions %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckKnown(t *testing.T) {
	ms, err := Load(fsOf("migrations/0001_a.sql", "migrations/0003_c.sql"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ms     []Migration
		newest int
		ok     bool
	}{
		{ms, 0, true},
		{ms, 1, true},
		{ms, 3, true},
		{ms, 4, false},
		{nil, 7, true},
	}
	for _, tt := range tests {
		err := CheckKnown(tt.ms, tt.newest)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "newer")) {
			t.Errorf("CheckKnown(%d migrations, %d) = %v", len(tt.ms), tt.newest, err)
		}
	}
}
