from ebling.cli import main

main()
