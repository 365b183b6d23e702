"""One router per resource; route modules never import each other."""
