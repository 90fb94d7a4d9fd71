package main

import "bytes"

type bufWriter = bytes.Buffer
