"""Business query -> plan -> SQL: parse, resolve names, plan, render, dialects."""
