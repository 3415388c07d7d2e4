// Command parley is the Parley binary: `parley serve` runs a node (every
// role by default); `parley version` prints the build's version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/node"
)

const usage = `Parley: self-hosted video meetings in one binary.

Usage:
  parley serve [options]   run a node (web client, signaling, control, bridge)
  parley loadtest [opts]   load a running server with synthetic participants
  parley check URL         check from this machine whether calls to a server work
  parley version           print the version

Run "parley serve --help" for the options.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "loadtest":
		return loadtestCmd(args[1:], stdout, stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "parley", node.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// drain waits until the node's conferences have moved (or its drain timeout
// passed, or another signal came).
func drain(n *node.Node, sigs <-chan os.Signal, log *slog.Logger) {
	done := make(chan bool, 1)
	go func() { done <- n.Drain() }()
	select {
	case emptied := <-done:
		if emptied {
			log.Info("drained; shutting down")
		} else {
			log.Warn("drain timeout passed; shutting down with participants left")
		}
	case <-sigs:
		log.Info("second signal; shutting down now")
	}
}

func serve(args []string, stderr io.Writer) int {
	cfg, err := config.Load("serve", args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "parley serve: %v\n", err)
		return 2
	}
	level, _ := config.ParseLevel(cfg.LogLevel)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	type started struct {
		n   *node.Node
		err error
	}
	ready := make(chan started, 1)
	go func() {
		n, err := node.Start(context.Background(), cfg, log)
		ready <- started{n, err}
	}()
	var n *node.Node
	select {
	case s := <-ready:
		if s.err != nil {
			log.Error("parley could not start", "err", s.err)
			return 1
		}
		n = s.n
	case <-sigs:
		log.Error("stopped while starting")
		return 1
	}
	select {
	case sig := <-sigs:
		if sig == syscall.SIGTERM {
			// Let conferences move to other bridges first; a second
			// signal stops at once.
			drain(n, sigs, log)
		} else {
			log.Info("shutting down")
		}
	case <-n.DrainStarted(): // POST /admin/drain
		drain(n, sigs, log)
	case err := <-n.Done():
		log.Error("HTTP server stopped", "err", err)
		n.Close()
		return 1
	}
	n.Close()
	return 0
}
