package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/store"
)

func keysCommand() *command {
	var data, db, role, scope, name string
	return &command{
		name: "keys",
		usage: "create --role viewer|reporter|analyst|planner|admin [--scope CODE] [--name N] [--data FILE | --db URL]\n" +
			"       gridd keys list [--data FILE | --db URL]\n" +
			"       gridd keys revoke ID [--data FILE | --db URL]",
		summary: "Manage API keys. create prints the new key's secret once: only its hash is stored.\n" +
			"--scope limits the key to a subtree of the hierarchy (a district, street, community or grid code).",
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&data, "data", "", "GeoPackage file of the embedded store (default "+defaultDataFile+")")
			fs.StringVar(&db, "db", "", "PostgreSQL URL of the PostGIS store")
			fs.StringVar(&role, "role", "", "create: the key's role")
			fs.StringVar(&scope, "scope", "", "create: hierarchy code the key is limited to")
			fs.StringVar(&name, "name", "", "create: a name for the key (who holds it)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet, args []string) error {
			if len(args) == 0 {
				return errUsage
			}
			switch args[0] {
			case "create":
				if len(args) != 1 || role == "" {
					return errUsage
				}
				r, err := api.ParseRole(role)
				if err != nil {
					return err
				}
				secret, k, err := api.NewKey(r, scope, name, time.Now())
				if err != nil {
					return err
				}
				st, err := openStore(ctx, data, db)
				if err != nil {
					return err
				}
				defer st.Close()
				if err := st.CreateKey(ctx, k); err != nil {
					return fmt.Errorf("store key: %w", err)
				}
				fmt.Fprintln(e.stdout, secret)
				fmt.Fprintf(e.stderr, "created key %s (role %s%s); the secret above is shown only now\n", k.ID, k.Role, scopeNote(k.Scope))
				return nil
			case "list":
				if len(args) != 1 {
					return errUsage
				}
				st, err := openStore(ctx, data, db)
				if err != nil {
					return err
				}
				defer st.Close()
				keys, err := st.ListKeys(ctx)
				if err != nil {
					return fmt.Errorf("list keys: %w", err)
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tROLE\tSCOPE\tNAME\tCREATED\tREVOKED")
				for _, k := range keys {
					revoked := "-"
					if k.RevokedAt != nil {
						revoked = k.RevokedAt.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, orDash(k.Scope), orDash(k.Name),
						k.CreatedAt.UTC().Format(time.RFC3339), revoked)
				}
				return tw.Flush()
			case "revoke":
				if len(args) != 2 {
					return errUsage
				}
				st, err := openStore(ctx, data, db)
				if err != nil {
					return err
				}
				defer st.Close()
				err = st.RevokeKey(ctx, args[1])
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("no key %q (see gridd keys list)", args[1])
				}
				if err != nil {
					return fmt.Errorf("revoke key: %w", err)
				}
				fmt.Fprintf(e.stderr, "revoked key %s; running servers refuse it within %s\n", args[1], api.KeyCacheTTL)
				return nil
			}
			return errUsage
		},
	}
}

func scopeNote(scope string) string {
	if scope == "" {
		return ", whole city"
	}
	return ", scope " + scope
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
