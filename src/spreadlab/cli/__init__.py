"""The command-line interface (typer): parse, load config, call one library function, print."""
