module symabi.realrun

go 1.22
