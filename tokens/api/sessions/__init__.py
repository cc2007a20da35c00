"""The Account Session section on the wire; views in `views`, routes in `urls`."""
