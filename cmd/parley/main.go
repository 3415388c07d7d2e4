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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(ctx, cfg, log)
	if err != nil {
		log.Error("parley could not start", "err", err)
		return 1
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-n.Done():
		log.Error("HTTP server stopped", "err", err)
		n.Close()
		return 1
	}
	n.Close()
	return 0
}
