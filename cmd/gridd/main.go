// Command gridd is the grid management service: serve the API, generate the
// demo city, import data, geocode, validate and diff grid sets.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its flags are defined by setup, run does the
// work with the remaining arguments.
type command struct {
	name    string
	usage   string // arguments after the name
	summary string
	run     func(ctx context.Context, env *env, fs *flag.FlagSet, args []string) error
	setup   func(fs *flag.FlagSet)
}

// env is the process's outside world, swapped in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// errUsage asks main to print the command's usage and exit 2.
var errUsage = errors.New("usage")

// exitError carries an exit status without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func commands() []*command {
	return []*command{
		serveCommand(),
		demoDataCommand(),
		importCommand(),
		geocodeCommand(),
		validateCommand(),
		diffCommand(),
		keysCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var c *command
	for _, x := range cmds {
		if x.name == args[0] {
			c = x
		}
	}
	if c == nil {
		fmt.Fprintf(e.stderr, "gridd: unknown command %q\n\n", args[0])
		printUsage(e.stderr, cmds)
		return 2
	}
	fs := flag.NewFlagSet("gridd "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: gridd %s %s\n\n%s\n", c.name, c.usage, c.summary)
		if hasFlags(fs) {
			fmt.Fprintln(e.stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	if c.setup != nil {
		c.setup(fs)
	}
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := c.run(ctx, e, fs, fs.Args())
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage):
		fs.Usage()
		return 2
	default:
		fmt.Fprintf(e.stderr, "gridd %s: %v\n", c.name, err)
		return 1
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// interleave lets flags follow positional arguments (gridd import grids
// FILE --publish), which the flag package alone stops at.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := a[1:]
			if len(name) > 0 && name[0] == '-' {
				name = name[1:]
			}
			hasValue := false
			for j := range name {
				if name[j] == '=' {
					hasValue = true
					name = name[:j]
					break
				}
			}
			if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func printUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "gridd: spatial analytics for city grid management (网格化管理)")
	fmt.Fprintln(w, "\nusage: gridd COMMAND [flags] [args]\n\ncommands:")
	for _, c := range cmds {
		first, _, _ := strings.Cut(c.summary, "\n")
		fmt.Fprintf(w, "  %-10s %s\n", c.name, first)
	}
	fmt.Fprintln(w, "\nRun 'gridd COMMAND --help' for a command's flags.")
}
