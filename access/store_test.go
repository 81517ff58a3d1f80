package access_test

import (
	"testing"

	"github.com/citytwin/citytwin/access"
	"github.com/citytwin/citytwin/access/storetest"
)

func TestFileStore(t *testing.T) {
	storetest.Run(t, access.NewFileStore(t.TempDir()))
}
