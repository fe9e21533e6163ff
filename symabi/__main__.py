from symabi.cli import main

main()
