// Command released runs the same work before and after binpages.Release
// and prints what Release did; the test builds it as a plain and as a
// position-independent executable.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"github.com/munja-sms/munja/internal/binpages"
)

type shape interface{ area() float64 }

type rect struct{ W, H float64 }

func (r rect) area() float64 { return r.W * r.H }

type circle struct{ R float64 }

func (c circle) area() float64 { return 3 * c.R * c.R }

// work touches code, type descriptors, itabs, strings and function tables.
func work() string {
	var b strings.Builder
	shapes := []shape{rect{2, 3}, circle{1}, rect{4, 5}}
	for _, s := range shapes {
		fmt.Fprintf(&b, "%T=%.1f ", s, s.area())
	}
	js, _ := json.Marshal(map[string]any{"b": []int{1, 2}, "a": rect{1, 2}})
	b.Write(js)
	b.WriteString(regexp.MustCompile(`[0-9]+`).ReplaceAllString(" a1b22c333", "#"))
	names := []string{}
	for i := range reflect.TypeFor[rect]().NumField() {
		names = append(names, reflect.TypeFor[rect]().Field(i).Name)
	}
	sort.Strings(names)
	b.WriteString(strings.Join(names, ","))
	pc, _, _, _ := runtime.Caller(0)
	b.WriteString(" " + runtime.FuncForPC(pc).Name())
	done := make(chan string)
	go func() { done <- fmt.Sprint(len(b.String())) }()
	b.WriteString(" " + <-done)
	runtime.GC()
	return b.String()
}

func main() {
	before := work()
	st, err := binpages.Release()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for range 3 {
		if after := work(); after != before {
			fmt.Printf("differs after Release:\n%s\n%s\n", before, after)
			os.Exit(1)
		}
	}
	fmt.Println("mappings", st.Mappings, "kept", st.Kept, "resident", st.Resident)
}
