// Command matchd matches security log records against threat indicators.
//
//	matchd consume [flags]          consume CEF/JSON logs from Kafka topics
//	matchd replay [flags] PATH...   replay archived CEF/JSON logs
//	matchd check  [flags]           load feeds and KQL rules, report counts and problems
//
// Alerts go to stdout as JSON Lines; logs, progress and the summary go to
// stderr. Exit status: 0 success, 1 an input could not be read to its end,
// 2 usage or feed errors, 130 interrupted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const (
	exitOK          = 0
	exitInputFailed = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `matchd matches security log records against threat indicators.

Usage:
  matchd consume [flags]          consume logs from Kafka topics as a consumer-group member
  matchd replay [flags] PATH...   replay archived logs (files, directories, - for stdin)
  matchd check [flags]            load feeds and KQL rules, print counts, errors and warnings

Run 'matchd COMMAND -h' for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	env := os.Environ()
	switch args[0] {
	case "consume":
		return runConsume(ctx, args[1:], env, stdout, stderr)
	case "replay":
		return runReplay(ctx, args[1:], env, stdin, stdout, stderr)
	case "check":
		return runCheck(ctx, args[1:], env, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "matchd: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}
