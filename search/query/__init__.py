"""Query: what a user typed, read into a tree of what it means and planned for the engine.

- `tree`: the query's nodes as plain frozen data;
- `parser`: the syntax (phrases, OR, -word, source:, questions) read into a tree;
- `synonyms`: phrases expanded with other words for the same thing;
- `plan`: a tree made into the plan the engine runs.
"""
