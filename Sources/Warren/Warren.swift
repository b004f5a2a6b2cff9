// Warren jobs core.
