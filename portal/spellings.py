"""How a true or false is spelled in a query string or form, wherever one is read (the
LoginRadius parameters, the native API's and the console's search filters)."""

TRUE_VALUES = frozenset({"true", "1", "yes", "on"})
FALSE_VALUES = frozenset({"false", "0", "no", "off", ""})
