module example.com/sig

go 1.21
