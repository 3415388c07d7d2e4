// Package web holds the browser client: one index.html, ES modules and a style
// sheet under static/, with no build step. The HTTP server serves index.html for
// "/" and for "/<room>", and every file under static/ at "/static/<path>".
package web

import "embed"

// Static holds the client files; their paths start with "static/".
//
//go:embed static
var Static embed.FS
