package main

import "strconv"

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
