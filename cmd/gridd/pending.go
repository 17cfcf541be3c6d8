package main

import (
	"context"
	"errors"
	"flag"
)

func pendingCommand(name string) *command {
	return &command{name: name, summary: "(in progress)", run: func(context.Context, *env, *flag.FlagSet, []string) error {
		return errors.New("not built yet")
	}}
}
