"""What is made from a checked model: views, quality, lint, search, diff, RDF, the catalog site."""
