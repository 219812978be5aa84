package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a byte count, plain or with a binary unit: "1048576",
// "512KiB", "16MiB", "64GiB", "1TiB".
type sizeFlag int64

var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}}

func (s *sizeFlag) String() string {
	v := int64(*s)
	for i := len(sizeUnits) - 1; i >= 0; i-- {
		u := sizeUnits[i]
		if v != 0 && v%(1<<u.shift) == 0 {
			return strconv.FormatInt(v>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10)
}

func (s *sizeFlag) Set(v string) error {
	num, shift := v, uint(0)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > (1<<62)>>shift {
		return fmt.Errorf("invalid size %q (want a positive number of bytes, optionally with KiB, MiB, GiB or TiB)", v)
	}
	*s = sizeFlag(n << shift)
	return nil
}
