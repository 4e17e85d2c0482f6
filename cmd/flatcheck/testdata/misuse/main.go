// Misuse uses package mmap wrongly, for flatcheck's tests: the instances
// in main are the ones whose run-time messages it prints, one a line,
// which flatcheck must report word for word.
package main

import (
	"fmt"
	"time"

	"github.com/typedmmap/mmap"
)

func main() {
	type local struct {
		A int8
		B int32
	}
	for _, err := range []error{
		mmap.CheckType[Rec](), // want `cannot map main\.Rec: 4 bytes`
		mmap.CheckType[Point](),
		mmap.CheckType[Pair[Point, local]](),                      // want `cannot map main\.Pair\[main\.Point,main\.local·1\]: 3 bytes of implicit padding after field Second\.A`
		mmap.CheckType[Pair[int64, Pair[time.Duration, Named]]](), // want `cannot map main\.Pair\[int64,main\.Pair\[time\.Duration,main\.Named\]\]: field Second\.Second\.Name is string`
		mmap.CheckType[Pair[struct{ local }, bool]](),             // want `cannot map main\.Pair\[struct { main\.local = main\.local·1 },bool\]: 3 bytes of implicit padding after field First\.local\.A`
		mmap.CheckType[[3]Pair[int8, uint]](),                     // want `cannot map \[3\]main\.Pair\[int8,uint\]: field \[i\]\.Second is uint`
		mmap.CheckType[map[Rec]Point](),                           // want `cannot map map\[main\.Rec\]main\.Point: it is map\[main\.Rec\]main\.Point \(map\)`
	} {
		if err != nil {
			fmt.Println(err)
		}
	}
}
