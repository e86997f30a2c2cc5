"""Leadership dashboard: the plan's progress as Japanese pages with server-rendered SVG charts."""
