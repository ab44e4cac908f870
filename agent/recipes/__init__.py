"""Recipes: deterministic compilers from structured content (a storyboard, a brief) to a Plan."""
