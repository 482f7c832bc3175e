// Command plugin is an exec plugin for the tests and benchmarks of
// package execplugin, in both modes: "plugin oneshot" answers the request
// on its standard input; "plugin longlived" speaks the long-lived
// protocol. Its handlers:
//
//	echo     replies with the request's args
//	argv     replies with the typed arguments, as JSON
//	store    long-lived: sets key args to "v", reads it back, replies with it
//	ask      asks "name?" and replies "hello <answer>"
//	sleep    sleeps until cancelled, then replies "cancelled <reason>"
//	crash    exits with status 3 (long-lived: the whole program)
//	noop     replies nothing
//	send     sends "sent" to ~ops
//	hook     answers a webhook with 201 and the body upper-cased
//	nomatch  hands the message back (done no_match) when args has "no";
//	         else replies "took " and the args
//	whoami   replies with what it knows of the bot: one-shot, the
//	         request's bot; long-lived, hello's bot updated by bot
//	         messages, and how it learnt it
//
// Long-lived, with hook_store = true in its configuration, its deactivate
// hook reads the store's "deactivations" (a number) and writes it back
// plus one, then exits.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
)

type msg = map[string]any

var (
	outMu sync.Mutex
	out   = bufio.NewWriter(os.Stdout)
)

func write(m msg) {
	b, _ := json.Marshal(m)
	outMu.Lock()
	defer outMu.Unlock()
	out.Write(append(b, '\n'))
	out.Flush()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "oneshot" {
		var req msg
		if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			os.Exit(2)
		}
		oneshot(req)
		return
	}
	longlived()
}

func oneshot(req msg) {
	switch req["handler"] {
	case "echo":
		write(msg{"type": "text", "text": "echo " + fmt.Sprint(req["args"])})
	case "argv":
		b, _ := json.Marshal(req["arguments"])
		write(msg{"type": "text", "text": string(b)})
	case "ask":
		answers, _ := req["answers"].([]any)
		if len(answers) == 0 {
			write(msg{"type": "ask", "text": "name?", "state": msg{"step": 1}})
			return
		}
		a := answers[0].(msg)
		write(msg{"type": "text", "text": fmt.Sprintf("hello %v (state %v)", a["text"], req["state"])})
	case "crash":
		fmt.Fprintln(os.Stderr, "about to crash")
		os.Exit(3)
	case "whoami":
		b, _ := json.Marshal(req["bot"])
		write(msg{"type": "text", "text": string(b)})
	case "nomatch":
		if strings.Contains(fmt.Sprint(req["args"]), "no") {
			write(msg{"type": "done", "no_match": true})
			return
		}
		write(msg{"type": "text", "text": "took " + fmt.Sprint(req["args"])})
	case "noop":
	}
}

var (
	cancelMu sync.Mutex
	cancels  = map[string]chan string{}
	calls    = map[string]chan msg{}
	callN    int
	botInfo  any      // hello's bot, then each bot message's
	botFrom  []string // "hello" or "bot", for each
)

// call makes a call and waits for its result.
func call(method string, params msg) msg {
	cancelMu.Lock()
	callN++
	id := fmt.Sprintf("c%d", callN)
	ch := make(chan msg, 1)
	calls[id] = ch
	cancelMu.Unlock()
	write(msg{"type": "call", "call": id, "method": method, "params": params})
	return <-ch
}

func longlived() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	var (
		wg        sync.WaitGroup
		hookStore bool
	)
	for in.Scan() {
		var m msg
		if err := json.Unmarshal(in.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "bad line:", err)
			os.Exit(2)
		}
		switch m["type"] {
		case "hello":
			if m["describe"] == true {
				write(msg{"type": "ready", "protocol": 1, "manifest": msg{"commands": []msg{{"name": "echo", "help": "described"}}}})
				continue
			}
			write(msg{"type": "log", "level": "info", "msg": "hello received", "attrs": msg{"version": m["version"]}})
			cfg, _ := m["config"].(msg)
			hookStore = cfg["hook_store"] == true
			cancelMu.Lock()
			botInfo, botFrom = m["bot"], append(botFrom, "hello")
			cancelMu.Unlock()
			write(msg{"type": "ready", "protocol": m["protocol"]})
		case "request":
			id := m["id"].(string)
			cancelMu.Lock()
			cancels[id] = make(chan string, 1)
			cancelMu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(id, m)
			}()
		case "bot":
			cancelMu.Lock()
			botInfo, botFrom = m["bot"], append(botFrom, "bot")
			cancelMu.Unlock()
			write(msg{"type": "log", "level": "info", "msg": "bot message received"})
		case "cancel":
			cancelMu.Lock()
			if ch := cancels[m["id"].(string)]; ch != nil {
				ch <- m["reason"].(string)
			}
			cancelMu.Unlock()
		case "result":
			cancelMu.Lock()
			ch := calls[m["call"].(string)]
			delete(calls, m["call"].(string))
			cancelMu.Unlock()
			ch <- m
		case "deactivate":
			if !hookStore {
				wg.Wait()
				return
			}
			// The hook's calls need their results: the loop goes on
			// reading while it runs.
			go func() {
				wg.Wait()
				r := call("store.get", msg{"key": "deactivations"})
				n, _ := r["value"].(msg)["value"].(float64)
				call("store.set", msg{"key": "deactivations", "value": n + 1})
				os.Exit(0)
			}()
		}
	}
}

func handle(id string, req msg) {
	done := msg{"type": "done", "id": id}
	defer func() { write(done) }()
	switch req["handler"] {
	case "echo":
		write(msg{"type": "text", "id": id, "text": "echo " + fmt.Sprint(req["args"])})
	case "argv":
		b, _ := json.Marshal(req["arguments"])
		write(msg{"type": "text", "id": id, "text": string(b)})
	case "store":
		key := fmt.Sprint(req["args"])
		call("store.set", msg{"key": key, "value": msg{"v": strings.ToUpper(key)}})
		r := call("store.get", msg{"key": key})
		b, _ := json.Marshal(r["value"].(msg)["value"])
		write(msg{"type": "text", "id": id, "text": string(b)})
	case "ask":
		r := call("ask", msg{"id": id, "text": "name?"})
		if e, ok := r["error"].(msg); ok {
			done["error"] = msg{"kind": "no_answer", "message": e["message"]}
			return
		}
		a := r["value"].(msg)["message"].(msg)
		write(msg{"type": "text", "id": id, "text": "hello " + fmt.Sprint(a["text"])})
	case "sleep":
		cancelMu.Lock()
		ch := cancels[id]
		cancelMu.Unlock()
		reason := <-ch
		write(msg{"type": "text", "id": id, "text": "cancelled " + reason})
	case "crash":
		fmt.Fprintln(os.Stderr, "about to crash")
		os.Exit(3)
	case "send":
		r := call("send", msg{"to": "~ops", "text": "sent", "id": id})
		if r["error"] != nil {
			done["error"] = msg{"message": fmt.Sprint(r["error"])}
		}
	case "hook":
		w := req["webhook"].(msg)
		write(msg{"type": "http", "id": id, "status": 201, "headers": msg{"X-Plugin": []string{"yes"}}, "body": strings.ToUpper(fmt.Sprint(w["body"]))})
	case "usage":
		done["error"] = msg{"kind": "usage", "message": "say it right"}
	case "nomatch":
		if strings.Contains(fmt.Sprint(req["args"]), "no") {
			done["no_match"] = true
			return
		}
		write(msg{"type": "text", "id": id, "text": "took " + fmt.Sprint(req["args"])})
	case "whoami":
		cancelMu.Lock()
		b, _ := json.Marshal(msg{"bot": botInfo, "from": botFrom})
		cancelMu.Unlock()
		write(msg{"type": "text", "id": id, "text": string(b)})
	case "noop":
	}
}
