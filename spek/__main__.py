from spek.cli import main

main()
