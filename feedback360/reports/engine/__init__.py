"""The analysis engine, pure numpy: a cycle's ratings in (inputs), what each report and the
organisation summary may show out (results, organisation). Start at analysis.analyse_cycle."""
