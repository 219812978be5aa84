package cef

import (
	"os"
	"path/filepath"
)

// corpusDir returns the shared test corpus: $MATCHD_CORPUS, else
// ../../../shared/corpus (the corpus next to the repository).
func corpusDir() (string, bool) {
	dir := os.Getenv("MATCHD_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "corpus")
	}
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}
