"""The lean fleet agent (`checkd agent`): the standard library and psutil only."""
