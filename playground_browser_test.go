package matterbot

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/matterbot/matterbot/bot"
)

// screenshots makes TestPlaygroundBrowser write its screenshots into
// docs/img, for docs/playground.md:
//
//	go test -run TestPlaygroundBrowser -screenshots .
var screenshots = flag.Bool("screenshots", false, "write the playground's screenshots into docs/img")

// chromiumPath returns the browser to drive: $CHROME_BIN, or the
// first of Debian's chromium and its usual other names on $PATH. It
// skips the test when there is none, or fails it when
// $BROWSER_TESTS is "required", as .ci/run sets it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_BIN"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on this machine, so the playground is not tested in a browser " +
		"(install one: apt-get install chromium; or set CHROME_BIN to a Chrome or Chromium binary)"
	if os.Getenv("BROWSER_TESTS") == "required" { // CI installs one
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is a headless Chromium with one tab, driven over the DevTools
// protocol; JavaScript errors in the page fail the test.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string // guarded by mu: uncaught exceptions in the page
}

// newBrowser starts Chromium and opens a tab; t's cleanup closes both.
// The browser lives two minutes at most, and each step (run) 30 s.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		// Root in CI has no user namespace sandbox; the machine has no
		// network beyond the loopback, so nothing calls out either.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-US"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc() // waits for the browser to exit
	})
	return openTab(t, ctx)
}

// newTab opens another tab of b's browser, a session of its own.
func (b *browser) newTab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	return openTab(b.t, ctx)
}

// openTab opens the tab of the chromedp context ctx (starting the
// browser for the first one) and watches its page for errors.
func openTab(t *testing.T, ctx context.Context) *browser {
	t.Helper()
	b := &browser{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
			if x := e.ExceptionDetails.Exception; x != nil {
				msg += " " + x.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			msg = "console.error:"
			for _, a := range e.Args {
				msg += " " + string(a.Value) + a.Description
			}
		default:
			return
		}
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("open a tab of %s: %v", chromiumPath(t), err)
	}
	return b
}

// run runs the actions, failing the test with what as the step's name.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v%s%s", what, err, b.pageErrors(), b.pageText())
	}
	if e := b.pageErrors(); e != "" {
		b.t.Fatalf("%s:%s", what, e)
	}
}

// pageText returns what the page shows, to tell why a step failed.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(document.body.dataset) + "\n" + document.body.innerText`))
	if err != nil {
		return "\n(the page's text: " + err.Error() + ")"
	}
	return "\nthe page shows:\n" + text
}

// pageErrors returns the page's uncaught exceptions, one a line.
func (b *browser) pageErrors() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) == 0 {
		return ""
	}
	return "\nJavaScript errors in the page:\n" + strings.Join(b.errors, "\n")
}

// waitJS waits until the JavaScript expression is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))
}

// postWith is the JavaScript expression true once a post (the elements
// the CSS selector posts finds) shows text, under selector sel within
// the post.
func postWith(posts, sel, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].some(p => [...p.querySelectorAll(%q)].some(e => e.textContent.includes(%q)))`,
		posts, sel, text)
}

// screenshot saves the viewport as docs/img/playground-NAME.png when
// -screenshots is given.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if !*screenshots {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join("docs", "img", "playground-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s", path)
}

// typeLine types text into the composer sel and presses Enter.
func typeLine(sel, text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		s := chromedp.CSS(sel)
		return chromedp.Void{}, chromedp.Do(ctx, chromedp.Click(s), chromedp.SendKeys(s, text), pressEnter)
	}
}

// pressEnter presses Enter in the focused element as a keyboard does: a
// key down that carries its text, then a key up. (SendKeys sends the
// text in an event of its own, which a page that handles Enter on key
// down cannot cancel, as it can a real key's.)
func pressEnter(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text, p.UnmodifiedText = "\r", "\r"
		}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
			return chromedp.Void{}, err
		}
	}
	return chromedp.Void{}, nil
}

// pick is a plugin for the browser test with the menus the release card
// lacks: of the server's users and of its channels. A choice is said on
// the card.
type pick struct{}

func (pick) Setup(p *bot.Plugin) error {
	card := func(said string) *bot.Card {
		return &bot.Card{Title: "Pick", Text: said, Actions: []bot.Action{
			bot.UserMenu("Reviewer", "reviewer"), bot.ChannelMenu("Room", "room")}}
	}
	bot.Command(p, "pick", func(ctx context.Context, req *bot.Request, _ struct{}) error {
		return req.Card(*card("nothing picked"))
	})
	chose := func(ctx context.Context, c *bot.Click) error {
		return c.Update("", card(c.Action+" "+c.Selected))
	}
	p.OnClick("reviewer", chose)
	p.OnClick("room", chose)
	return nil
}

// choose picks the option labelled text in the menu sel once its
// options are there, as a person does (the value changes, then
// "change"), and waits for the card to say "ACTION VALUE".
func choose(sel, action, text string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, chromedp.Do(ctx,
			waitJS(fmt.Sprintf(`(() => {
				const s = document.querySelector(%q);
				const o = s && [...s.options].find(o => o.text === %q);
				if (!o) return false;
				s.value = o.value;
				s.dispatchEvent(new Event("change"));
				window.picked = o.value;
				return true;
			})()`, sel, text)),
			waitJS(fmt.Sprintf(`[...document.querySelectorAll("#posts .attachment .message")].some(m => m.textContent === %q + " " + window.picked)`, action)),
		)
	}
}

// TestPlaygroundBrowser: the demo's playground in a real headless
// Chromium, as a person uses it: a command answered with a card, its
// menu and its button updating the card, a dialog refusing a value with
// the error under its field then taking another, a slash command
// opening the dialog, an ephemeral answer, a thread, a reaction, a group
// message seen from another user's tab, and a direct message.
func TestPlaygroundBrowser(t *testing.T) {
	b := newBrowser(t)
	d := startDemo(t, pick{})
	const posts, thread, ephemeral = "#posts .post", "#thread .post", "#posts .post.ephemeral"

	b.run("open the playground as alice in town-square",
		chromedp.EmulateViewport(1280, 760),
		chromedp.Navigate(d.url+"/playground?user=alice&channel=town-square"),
		waitJS(`document.body.dataset.ready === "true" && document.body.dataset.connected === "true"`),
		waitJS(`document.querySelector("#channel-name").textContent.includes("Town Square")`),
	)

	// A command, answered with a card.
	b.run("send !release",
		typeLine("#input", "!release api 1.4.2"),
		waitJS(postWith(posts, ".message", "!release api 1.4.2")),
		chromedp.WaitVisible(chromedp.CSS(`#posts .attachment button[data-action="Approve"]`)),
		waitJS(postWith(posts, ".field", "waiting for approval")),
		// The colour bar is the card's colour: warning, as
		// bot.CardColor makes it.
		waitJS(`getComputedStyle(document.querySelector("#posts .attachment")).getPropertyValue("--bar").trim() === "#DAA038"`),
	)
	b.screenshot("1-card")

	// The menu: the card says prod.
	b.run("choose Production in the menu",
		// As a person picks an option: the value changes, then "change".
		chromedp.SetValue(chromedp.CSS(`#posts .attachment select[data-action="Environment"]`), "prod"),
		waitJS(postWith(posts, ".field", "prod")),
	)

	// The dialog: a value the plugin refuses, then one it takes.
	b.run("open the dialog",
		chromedp.Click(chromedp.CSS(`#posts .attachment button[data-action="Schedule…"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dialog .modal`)),
		waitJS(`document.querySelector("#dialog h3").textContent === "Schedule a release"`),
		waitJS(`document.querySelector("#dlg-env").value === "prod"`),
	)
	b.screenshot("2-dialog")
	b.run("submit never",
		chromedp.SendKeys(chromedp.CSS("#dlg-when"), "never"),
		chromedp.SendKeys(chromedp.CSS("#dlg-notes"), "after the freeze"),
		chromedp.Click(chromedp.CSS("#dialog-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#dialog [data-field="when"] .field-error`)),
		waitJS(`document.querySelector('#dialog [data-field="when"] .field-error').textContent === "pick a time, or close the dialog"`),
	)
	b.screenshot("3-dialog-error")
	b.run("submit tonight",
		chromedp.SendKeys(chromedp.CSS("#dlg-when"), strings.Repeat(kb.Backspace, len("never"))+"tonight 22:00"),
		chromedp.Click(chromedp.CSS("#dialog-submit")),
		chromedp.WaitNotPresent(chromedp.CSS(`#dialog .modal`)),
		waitJS(postWith(posts, ".message", "api 1.4.2 will go to prod tonight 22:00 (scheduled by @alice).")),
		waitJS(postWith(posts, "blockquote", "after the freeze")),
	)

	// The button: the card is updated, and alice alone reads a word.
	b.run("click Approve",
		chromedp.Click(chromedp.CSS(`#posts .attachment button[data-action="Approve"]`)),
		waitJS(postWith(posts, ".field", "released, approved by @alice")),
		waitJS(`document.querySelectorAll('#posts .attachment button[data-action="Approve"]').length === 0`),
		waitJS(`getComputedStyle(document.querySelector("#posts .attachment")).getPropertyValue("--bar").trim() === "#2EB886"`),
		waitJS(postWith(ephemeral, ".message", "Released api 1.4.2 to prod.")),
		waitJS(postWith(ephemeral, ".only-you", "(Only visible to you)")),
	)
	b.screenshot("4-approved")

	// Slash commands: one opens the dialog at once, one answers alone.
	b.run("the slash commands offered",
		chromedp.Click(chromedp.CSS("#input")),
		chromedp.SendKeys(chromedp.CSS("#input"), "/re"),
		waitJS(`!document.querySelector("#suggest").hidden && document.querySelector("#suggest").textContent.includes("/release")`),
	)
	b.screenshot("5-slash")
	b.run("/release schedule",
		chromedp.SendKeys(chromedp.CSS("#input"), "lease schedule web 2.0"),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS(`#dialog .modal`)),
		waitJS(`document.querySelector("#dialog .intro").textContent.includes("web 2.0")`),
		chromedp.Click(chromedp.CSS(`#dialog .btn.cancel`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#dialog .modal`)),
	)
	b.run("/ops-bot echo",
		typeLine("#input", "/ops-bot echo just for me"),
		waitJS(postWith(ephemeral, ".message", "just for me")),
	)

	// A card's pretext: release schedule as a message (no trigger id to
	// open a dialog with) answers with the card and a word above it.
	b.run("!release schedule",
		typeLine("#input", "!release schedule db 9.1"),
		waitJS(postWith(posts, ".pretext", "Click Schedule… to pick a time")),
		waitJS(postWith(posts, ".pretext strong", "Schedule…")),
		waitJS(postWith(posts, ".att-title", "Release db 9.1")),
	)

	// Menus of users and of channels.
	b.run("!pick",
		typeLine("#input", "!pick"),
		waitJS(postWith(posts, ".message", "nothing picked")),
		choose(`#posts .attachment select[data-action="Reviewer"]`, "reviewer", "@bob"),
		choose(`#posts .attachment select[data-action="Room"]`, "room", "Deploys"),
	)

	// A thread, and a reaction.
	b.run("reply in a thread",
		chromedp.Click(chromedp.CSS(`#posts .post:has(.attachment) .post-menu .reply`)),
		chromedp.WaitVisible(chromedp.CSS(`#rhs`)),
		typeLine("#reply-input", "!echo in the thread"),
		waitJS(postWith(thread, ".message", "in the thread")),
		waitJS(`[...document.querySelectorAll("#thread .post .name")].some(e => e.textContent === "ops-bot")`),
		waitJS(postWith(posts, ".replies", "2 replies")),
	)
	b.run("react with a rocket",
		chromedp.Click(chromedp.CSS(`#thread .post:first-child .post-menu .react`)),
		chromedp.Click(chromedp.CSS(`#thread .picker button[data-emoji="rocket"]`)),
		waitJS(`document.querySelector('#posts .post:has(.attachment) .reaction.mine[data-emoji="rocket"]')?.textContent.includes("1")`),
	)
	b.screenshot("6-thread")

	// A group message, seen from bob's tab as it happens.
	bob := b.newTab()
	bob.run("open the playground as bob",
		chromedp.EmulateViewport(1280, 760),
		chromedp.Navigate(d.url+"/playground?user=bob&channel=town-square"),
		waitJS(`document.body.dataset.ready === "true" && document.body.dataset.connected === "true"`),
	)
	b.run("a group message",
		chromedp.Click(chromedp.CSS(`#new-dm`)),
		chromedp.Click(chromedp.CSS(`#dialog .people input[data-username="bob"]`)),
		chromedp.Click(chromedp.CSS(`#dialog .people input[data-username="ops-bot"]`)),
		chromedp.Click(chromedp.CSS(`#dialog .btn.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#channels .chan.active[data-channel="alice, bob, ops-bot"]`)),
		typeLine("#input", "!echo hello, group"),
		waitJS(postWith(posts, ".message", "hello, group")+` && [...document.querySelectorAll("#posts .post .name")].some(e => e.textContent === "ops-bot")`),
	)
	bob.run("bob sees the group message",
		chromedp.Click(chromedp.CSS(`#channels .chan.unread[data-channel="alice, bob, ops-bot"]`)),
		waitJS(`document.querySelector("#channel-name").textContent === "alice, ops-bot"`),
		waitJS(postWith(posts, ".message", "!echo hello, group")),
		waitJS(postWith(posts, ".message", "hello, group")),
	)
	bob.screenshot("7-group")

	// A direct message with the bot: no prefix needed.
	b.run("direct message",
		chromedp.Click(chromedp.CSS(`#new-dm`)),
		chromedp.Click(chromedp.CSS(`#dialog .people input[data-username="ops-bot"]`)),
		chromedp.Click(chromedp.CSS(`#dialog .btn.primary`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#dialog .modal`)),
		chromedp.WaitVisible(chromedp.CSS(`#channels .chan.active[data-channel="@ops-bot"]`)),
		waitJS(`document.querySelector("#channel-name").textContent === "ops-bot"`),
		typeLine("#input", "whoami"),
		waitJS(postWith(posts, "td", "@alice")),
	)
}
