from regdna.cli import main

main()
