// Package console is a bot.Backend on a terminal, for developing and
// trying plugins without a chat server: Errbot's text mode (-T).
//
// The user types messages as a person in a room; the bot's replies are
// printed with who sent them and where, cards as boxes, files as a name,
// a size and the path they were saved to, reactions as a line, markdown
// as a terminal shows it. Lines that start with "/" are console commands:
//
//	/as @bob          speak as another user (users are invented on first use)
//	/room ~ops        speak in another room (~room or ~team/room)
//	/dm               speak to the bot in a direct message (no prefix needed)
//	/thread #12       reply in the thread of message #12; /thread leaves it
//	/react #12 :tada: react to message #12
//	/upload path      send a message with a file attached
//	/join             tell the bot the user joined the room
//	/presence away    tell the bot the user's status changed
//	/help, /quit      (Ctrl-D quits too; Ctrl-C drops the line)
//
// Every post gets an id, shown as #N; the prompt shows the id the next
// message will get. Use it with /thread and /react.
//
// On a terminal the line is edited with history (~/.matterbot_history by
// default). Any other reader works too, which is how the package is
// tested: lines are read as they come and echoed after their prompt, and
// each line's replies are printed before the next prompt, because Run
// waits for the channel the engine returns from HandleMessage.
//
//	be, err := console.New(&console.Options{User: "@you", Room: "~ops"})
//	if err != nil { … }
//	e, err := bot.New(be, &bot.Options{Admins: []string{"@you"}}, plugins...)
//	if err != nil { … }
//	if err := e.Run(ctx); err != nil && !errors.Is(err, console.ErrQuit) { … }
//
// Output is styled with ANSI escape sequences only on a terminal, and not
// when NO_COLOR is set (Options.Color overrides it).
package console
