package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/parley/parley/internal/loadtest"
)

const loadtestUsage = `Usage: parley loadtest [options]

Joins synthetic participants to a running "parley serve", measures what they
receive for --duration once everyone has joined, and prints a summary (see
docs/loadtest.md). It exits 1 if a join failed or nothing was received.

Options:
`

// loadtestCmd runs `parley loadtest`.
func loadtestCmd(args []string, stdout, stderr io.Writer) int {
	o := loadtest.DefaultOptions()
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, loadtestUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.URL, "url", o.URL, "the server to load")
	fs.IntVar(&o.Rooms, "rooms", o.Rooms, "rooms")
	fs.IntVar(&o.VideoPublishers, "video-publishers", o.VideoPublishers, "participants per room publishing camera and microphone")
	fs.IntVar(&o.AudioPublishers, "audio-publishers", o.AudioPublishers, "participants per room publishing a microphone only")
	fs.IntVar(&o.Subscribers, "subscribers", o.Subscribers, "participants per room who only receive")
	fs.Float64Var(&o.JoinRate, "join-rate", o.JoinRate, "joins per second, all rooms together")
	fs.DurationVar(&o.Warmup, "warmup", o.Warmup, "time between everyone receiving media and the measured phase, for bandwidth estimates to ramp up")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of the measured phase, after everyone joined")
	fs.StringVar(&o.Resolution, "resolution", o.Resolution, "camera resolution, the top simulcast layer: 180p, 360p or 720p")
	fs.StringVar(&o.Simulcast, "simulcast", o.Simulcast, "on: layers from 180p up to --resolution; off: one layer at --resolution")
	fs.StringVar(&o.Layout, "layout", o.Layout, "speaker: the room's first video publisher on stage, others at 180p; grid: everyone at 180p")
	metricsURL := fs.String("metrics-url", "", "the server's Prometheus metrics (default <url>/metrics; \"\" for none)")
	fs.BoolVar(&o.AllowRemote, "allow-remote", o.AllowRemote, "allow a --url that is not on this machine")
	fs.StringVar(&o.RoomPrefix, "room-prefix", o.RoomPrefix, "rooms are named <prefix>-1, <prefix>-2, ...")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "seed of the random choices (speaking levels, the order subscribers join)")
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	logLevel := fs.String("log-level", "error", "level of the clients' logs on stderr: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley loadtest: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "metrics-url" {
			o.MetricsURL = metricsURL
		}
	})
	cfg, err := o.Config()
	if err != nil {
		fmt.Fprintf(stderr, "parley %v\n", err) // "loadtest: ..."
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "parley loadtest: --log-level must be debug, info, warn or error, not %q\n", *logLevel)
		return 2
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Progress = stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	fmt.Fprintf(stderr, "parley loadtest: %s against %s\n", describe(cfg), cfg.URL)
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "parley %v\n", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "parley loadtest: %v\n", err)
			return 1
		}
	} else {
		printReport(stdout, rep)
	}
	if problems := rep.Problems(); len(problems) > 0 {
		fmt.Fprintf(stderr, "parley loadtest: FAILED: %s\n", strings.Join(problems, "; "))
		return 1
	}
	return 0
}

func describe(c loadtest.Config) string {
	sim := "simulcast"
	if !c.Simulcast {
		sim = "single layer"
	}
	return fmt.Sprintf("%d room(s) × (%d video publishers, %d audio publishers, %d subscribers), %dp %s, %s layout, %s warm-up, %s measured",
		c.Rooms, c.VideoPublishers, c.AudioPublishers, c.Subscribers, c.Height, sim, c.Layout, c.Warmup, c.Duration)
}

// printReport writes the summary table.
func printReport(w io.Writer, r *loadtest.Report) {
	c := r.Config
	sim := "simulcast"
	if !c.Simulcast {
		sim = "single layer"
	}
	fmt.Fprintf(w, "parley loadtest: %d room(s) × (%d video, %d audio publishers, %d subscribers), %s %s, %s layout\n",
		c.Rooms, c.VideoPublishers, c.AudioPublishers, c.Subscribers, c.Resolution, sim, c.Layout)
	fmt.Fprintf(w, "measured %.1f s", r.SteadySeconds)
	if r.Interrupted {
		fmt.Fprint(w, " (interrupted)")
	}
	fmt.Fprint(w, "\n\n")

	j := r.Joins
	writeTable(w, [][]string{
		{"joins", "attempted", "succeeded", "failed", "no media", "join→media p50", "p99", "max"},
		{"", fmt.Sprint(j.Attempted), fmt.Sprint(j.Succeeded), fmt.Sprint(j.Failed), fmt.Sprint(j.NoMedia),
			msText(j.TimeMS.P50), msText(j.TimeMS.P99), msText(j.TimeMS.Max)},
	})
	fmt.Fprintln(w)
	rows := [][]string{{"received", "tracks", "packets", "pkt/s", "kbit/s", "loss before rtx", "after rtx", "latency p50", "p95", "p99", "max"}}
	for _, k := range []struct {
		name string
		k    loadtest.Kind
	}{{"audio", r.Audio}, {"video", r.Video}, {"all", r.All}} {
		rows = append(rows, []string{k.name, fmt.Sprint(k.k.Tracks), fmt.Sprint(k.k.Packets),
			fmt.Sprintf("%.0f", k.k.PacketsPerSecond), fmt.Sprintf("%.0f", k.k.Kbps),
			fmt.Sprintf("%.3f %%", k.k.Loss.BeforeRTXPct), fmt.Sprintf("%.3f %%", k.k.Loss.AfterRTXPct),
			msText(k.k.LatencyMS.P50), msText(k.k.LatencyMS.P95), msText(k.k.LatencyMS.P99), msText(k.k.LatencyMS.Max)})
	}
	writeTable(w, rows)
	fmt.Fprintf(w, "\nfreezes        %d (%.0f ms in all)\n", r.Freezes.Count, r.Freezes.TotalMS)
	fmt.Fprintf(w, "errors         %d\n", r.Errors.Count)
	for _, e := range r.Errors.Messages {
		fmt.Fprintf(w, "  %4d× %-11s %s\n", e.Count, e.Kind, e.Message)
	}
	if r.Errors.Other > 0 {
		fmt.Fprintf(w, "  %4d× others\n", r.Errors.Other)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "server         CPU %s s (%s cores) · %s packets out (%s/s) · %s µs CPU per packet\n",
			num(s.CPUSeconds, 2), num(s.CPUCores, 2), num(s.PacketsOut, 0), num(s.PacketsOutPerSecond, 0), num(s.CPUMicrosPerPacket, 2))
		fmt.Fprintf(w, "               RSS %s MiB (idle %s MiB) · %s KiB per participant\n",
			num(scale(s.RSSBytes, 1<<20), 1), num(scale(s.RSSIdleBytes, 1<<20), 1), num(scale(s.RSSPerParticipantBytes, 1<<10), 0))
		if s.Error != "" {
			fmt.Fprintf(w, "               %s\n", s.Error)
		}
	}
	fmt.Fprintf(w, "load generator CPU %.2f s (%.2f cores)\n", r.LoadGenerator.CPUSeconds, r.LoadGenerator.CPUCores)
}

// writeTable writes rows as aligned columns: the first left-aligned, the
// others right-aligned.
func writeTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func msText(v float64) string { return fmt.Sprintf("%.2f ms", v) }

func num(v *float64, prec int) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func scale(v *float64, by float64) *float64 {
	if v == nil {
		return nil
	}
	s := *v / by
	return &s
}
