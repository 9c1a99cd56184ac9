"""Non-Lightning subcommands of the ``evovideo`` CLI; each module has add_arguments(parser) and run(args)."""
