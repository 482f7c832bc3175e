package mattermost_test

import (
	"fmt"

	mmbackend "github.com/matterbot/matterbot/backend/mattermost"
)

func ExampleSplit() {
	text := "Results:\n```go\nok  pkg/a\nok  pkg/b\nok  pkg/c\n```"
	for _, part := range mmbackend.Split(text, 30) {
		fmt.Printf("%s\n--\n", part)
	}
	// Output:
	// Results:
	// ```go
	// ok  pkg/a
	// ```
	// --
	// ```go
	// ok  pkg/b
	// ok  pkg/c
	// ```
	// --
}
