package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/parley/parley/internal/check"
)

const checkUsage = `Usage: parley check [options] URL

Checks, from this machine, whether calls to the Parley server at URL can
work and how well: DNS, TCP and TLS, WebSocket signaling, media over UDP
and over TCP, TURN over UDP, TCP and TLS, round trip, jitter and loss of a
media-rate stream, and the path MTU. Run it in a branch office before a
pilot, from the office LAN and from guest Wi-Fi. Exit status: 0 when a call
can work, 1 when not (no signaling, or no media path), 2 on bad usage.

Options:
`

// checkCmd runs `parley check`.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	duration := fs.Duration("duration", check.DefaultDuration, "how long to measure the media stream")
	timeout := fs.Duration("timeout", check.DefaultTimeout, "how long to wait for each connection")
	caFile := fs.String("ca-file", "", "PEM file of certificate authorities to trust besides the system's")
	token := fs.String("token", "", "join token, for servers that admit no guests")
	verbose := fs.Bool("v", false, "log what the check does to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, checkUsage)
		fs.PrintDefaults()
	}
	// The URL may come before or after the options.
	var url string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		if url != "" {
			fmt.Fprintf(stderr, "parley check: one URL only (got %q and %q)\n", url, fs.Arg(0))
			return 2
		}
		url, args = fs.Arg(0), fs.Args()[1:]
	}
	if url == "" {
		fs.Usage()
		return 2
	}
	opts := check.Options{URL: url, Duration: *duration, Timeout: *timeout, Token: *token}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fmt.Fprintf(stderr, "parley check: --ca-file: %v\n", err)
			return 2
		}
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			fmt.Fprintf(stderr, "parley check: --ca-file %s holds no PEM certificate\n", *caFile)
			return 2
		}
		opts.Roots = roots
	}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if !*asJSON {
		fmt.Fprintf(stderr, "Checking %s (about %s)...\n", url, (*duration + 2*(*timeout)).Round(time.Second))
	}
	report, err := check.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "parley check: %v\n", err)
		return 2
	}
	if *asJSON {
		err = check.WriteJSON(stdout, report)
	} else {
		err = check.WriteText(stdout, report)
	}
	if err != nil {
		fmt.Fprintf(stderr, "parley check: %v\n", err)
		return 1
	}
	if !report.CanCall {
		return 1
	}
	return 0
}
