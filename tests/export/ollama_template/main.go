// Renders an Ollama Modelfile's TEMPLATE for a chat request the way Ollama's server does, with Go's
// text/template (the engine Ollama uses): the Modelfile's SYSTEM is put first when the request has
// no system message, consecutive messages of one role are joined with a blank line, every system
// message's text becomes .System, and the template runs over .System, .Messages and an empty
// .Response. Reads {"template", "system", "messages": [{"role", "content"}]} on stdin, writes the
// prompt to stdout. Used by tests/export/test_ollama_template.py.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type request struct {
	Template string    `json:"template"`
	System   string    `json:"system"`
	Messages []message `json:"messages"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	msgs := req.Messages
	if req.System != "" && (len(msgs) == 0 || msgs[0].Role != "system") {
		msgs = append([]message{{Role: "system", Content: req.System}}, msgs...)
	}
	var systems []string
	var joined []*message
	for i := range msgs {
		if msgs[i].Role == "system" {
			systems = append(systems, msgs[i].Content)
		}
		if n := len(joined); n > 0 && joined[n-1].Role == msgs[i].Role {
			joined[n-1].Content += "\n\n" + msgs[i].Content
		} else {
			m := msgs[i]
			joined = append(joined, &m)
		}
	}
	tmpl := template.Must(template.New("").Parse(req.Template))
	data := map[string]any{"System": strings.Join(systems, "\n\n"), "Messages": joined, "Response": ""}
	if err := tmpl.Execute(os.Stdout, data); err != nil {
		panic(err)
	}
}
