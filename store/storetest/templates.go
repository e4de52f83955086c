package storetest

import (
	"testing"
	"time"

	"github.com/munja-sms/munja/store"
)

func testTemplates(t *testing.T, s store.Store) {
	c := ctx(t)
	if list, err := s.ListTemplates(c); err != nil || len(list) != 0 {
		t.Errorf("ListTemplates on an empty store = %+v, %v", list, err)
	}
	save := func(tp *store.Template) *store.Template {
		t.Helper()
		if err := s.SaveTemplate(c, tp); err != nil {
			t.Fatalf("SaveTemplate(%q): %v", tp.Name, err)
		}
		return tp
	}
	disk := save(&store.Template{Name: "disk", Text: "[{{.Host}}] 디스크 {{.Value}}", Title: "디스크"})
	if disk.ID == 0 {
		t.Fatal("SaveTemplate left ID 0")
	}
	if time.Since(disk.CreatedAt).Abs() > time.Minute || !sameTime(disk.CreatedAt, disk.UpdatedAt) {
		t.Errorf("new template times %v / %v, want both about now", disk.CreatedAt, disk.UpdatedAt)
	}
	back := save(&store.Template{Name: "backup", Text: "backup done", CreatedAt: base})
	if !sameTime(back.CreatedAt, base) {
		t.Errorf("CreatedAt %v, want the one given (%v)", back.CreatedAt, base)
	}
	got, err := s.GetTemplate(c, disk.ID)
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	equal(t, "GetTemplate", *got, *disk)

	err = s.SaveTemplate(c, &store.Template{Name: "disk", Text: "other"})
	wantErr(t, "SaveTemplate(duplicate name)", err, store.ErrConflict)
	err = s.SaveTemplate(c, &store.Template{ID: back.ID, Name: "disk", Text: "rename onto a taken name"})
	wantErr(t, "SaveTemplate(update to a taken name)", err, store.ErrConflict)
	missing := disk.ID + back.ID + 100
	err = s.SaveTemplate(c, &store.Template{ID: missing, Name: "ghost", Text: "x"})
	wantErr(t, "SaveTemplate(missing ID)", err, store.ErrNotFound)

	// Update: new fields, CreatedAt kept whatever the caller passes.
	upd := save(&store.Template{ID: back.ID, Name: "backup-ok", Text: "백업 완료", Title: "백업"})
	if !sameTime(upd.CreatedAt, base) || upd.UpdatedAt.Before(upd.CreatedAt) {
		t.Errorf("updated template times %v / %v, want CreatedAt kept (%v)", upd.CreatedAt, upd.UpdatedAt, base)
	}
	got, err = s.GetTemplate(c, back.ID)
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	equal(t, "updated template", *got, *upd)

	list, err := s.ListTemplates(c)
	if err != nil {
		t.Fatalf("ListTemplates: %v", err)
	}
	equal(t, "ListTemplates (by name)", list, []store.Template{*upd, *disk})

	if err := s.DeleteTemplate(c, disk.ID); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	_, err = s.GetTemplate(c, disk.ID)
	wantErr(t, "GetTemplate(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteTemplate(deleted)", s.DeleteTemplate(c, disk.ID), store.ErrNotFound)
	// The name of a deleted template is free again.
	save(&store.Template{Name: "disk", Text: "again"})
}
