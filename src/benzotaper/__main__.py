"""`python -m benzotaper`: the same command line as the `benzotaper` script."""

from benzotaper.cli import main

if __name__ == "__main__":
    main()
