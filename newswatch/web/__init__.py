"""The web dashboard, its JSON API and Atom feeds (`newswatch serve`): it reads and presents, never decides."""
