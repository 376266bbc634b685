package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/checkpoint-edge/checkpoint/audit"
	"github.com/checkpoint-edge/checkpoint/config"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
	"github.com/checkpoint-edge/checkpoint/web"
)

func init() { rootCmd.AddCommand(newOfficerCmd()) }

// officerMinPIN is the shortest PIN accepted: with argon2id and login rate
// limits, six digits keep offline guessing of a stolen file at hours per
// account.
const officerMinPIN = 6

// officerMaxPIN bounds what is hashed, so a pasted file cannot stall us.
const officerMaxPIN = 128

var officerIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

type officerFlags struct {
	accounts, config string
}

// path is --accounts, else the config's web.accounts.
func (f *officerFlags) path() (string, error) {
	if f.accounts != "" {
		return f.accounts, nil
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return "", cli.Exit(2, fmt.Errorf("%w (or give --accounts FILE)", err))
	}
	if cfg.Web.Accounts == "" {
		return "", cli.Exit(2, fmt.Errorf("config %s has no web.accounts (give --accounts FILE)", f.config))
	}
	return cfg.Web.Accounts, nil
}

// audit opens the unit's audit log for an account change. It is required
// when the accounts file comes from the config, or the config was named.
func (f *officerFlags) audit(cmd *cobra.Command) (*techAudit, error) {
	required := f.accounts == "" || cmd.Flags().Changed("config")
	ta, err := openTechAudit(f.config, required, cmd.ErrOrStderr())
	if err != nil {
		return nil, cli.Exit(2, err)
	}
	return ta, nil
}

// load reads the accounts file; a missing file is an empty one when
// create is set (the first officer creates it).
func (f *officerFlags) load(create bool) (string, *web.Accounts, error) {
	path, err := f.path()
	if err != nil {
		return "", nil, err
	}
	a, err := web.LoadAccounts(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return path, &web.Accounts{}, nil
	}
	if err != nil {
		return "", nil, err
	}
	return path, a, nil
}

func newOfficerCmd() *cobra.Command {
	f := &officerFlags{}
	cmd := &cobra.Command{
		Use:   "officer",
		Short: "Manage the officers who may sign in to the desk page (id, name, PIN)",
		Long: "The accounts file holds each officer's id, name and an argon2id hash of the PIN; PINs are " +
			"never stored or shown. The file is written atomically with mode 0640. A running checkpointd re-reads it " +
			"when it changes: a new officer can sign in at once, a removed one is signed out at once.",
	}
	cmd.PersistentFlags().StringVar(&f.accounts, "accounts", "", "officer accounts file (default: the config's web.accounts)")
	cmd.PersistentFlags().StringVar(&f.config, "config", techDefaultConfig, "checkpointd's config")
	cmd.AddCommand(newOfficerAddCmd(f), newOfficerListCmd(f), newOfficerRemoveCmd(f), newOfficerSignInCmd(f))
	return cmd
}

func newOfficerAddCmd(f *officerFlags) *cobra.Command {
	var id, name, osUser, lang string
	var pinStdin bool
	cmd := &cobra.Command{
		Use:   "add --id ID --name NAME [--pin-stdin]",
		Short: "Add an officer, or replace an officer's name and PIN",
		Long: fmt.Sprintf("Asks for the PIN twice on the terminal without echo, or reads one line from stdin "+
			"with --pin-stdin (scripts). PINs shorter than %d characters are refused.", officerMinPIN),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !officerIDPattern.MatchString(id) {
				return cli.Exit(2, fmt.Errorf("--id %q: want 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit", id))
			}
			name = strings.TrimSpace(name)
			if name == "" || strings.IndexFunc(name, unicode.IsControl) >= 0 || utf8.RuneCountInString(name) > 128 {
				return cli.Exit(2, errors.New("--name is required: up to 128 printable characters"))
			}
			if osUser != "" && !officerIDPattern.MatchString(osUser) {
				return cli.Exit(2, fmt.Errorf("--os-user %q is not a user name", osUser))
			}
			if lang != "" && !slices.Contains(web.Languages, lang) {
				return cli.Exit(2, fmt.Errorf("--lang %q: want one of %s", lang, strings.Join(web.Languages, ", ")))
			}
			path, a, err := f.load(true)
			if err != nil {
				return err
			}
			ta, err := f.audit(cmd)
			if err != nil {
				return err
			}
			defer ta.Close()
			var pin string
			if pinStdin {
				pin, err = officerReadPINLine(cmd.InOrStdin())
			} else {
				pin, err = officerPromptPIN(cmd.ErrOrStderr())
			}
			if err != nil {
				return cli.Exit(2, err)
			}
			if err := officerCheckPIN(pin); err != nil {
				return cli.Exit(2, err)
			}
			replaced := false
			for _, o := range a.Officers {
				if o.ID == id {
					replaced = true
					if !cmd.Flags().Changed("lang") {
						lang = o.Lang // a new PIN keeps the officer's language
					}
				}
			}
			a.SetOfficer(id, name, pin, osUser)
			if err := a.SetLang(id, lang); err != nil {
				return cli.Exit(2, err)
			}
			if err := a.Save(path); err != nil {
				return fmt.Errorf("save %s: %w", path, err)
			}
			action := "added"
			if replaced {
				action = "replaced"
			}
			if err := ta.record(audit.KindKeyOperation, "officer_"+action, map[string]string{"officer": id, "os_user": osUser, "lang": lang}); err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), map[string]any{"id": id, "action": action, "accounts": path, "officers": len(a.Officers)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "officer %s %s (%s: %d officers)\n", id, action, path, len(a.Officers))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "officer id (sign-in name, e.g. badge number)")
	cmd.Flags().StringVar(&name, "name", "", "officer's name as shown on the page")
	cmd.Flags().BoolVar(&pinStdin, "pin-stdin", false, "read the PIN from the first line of stdin instead of the terminal")
	cmd.Flags().StringVar(&osUser, "os-user", "", "OS user of the desk machine who may sign in as this officer without the PIN (officer signin)")
	cmd.Flags().StringVar(&lang, "lang", "", "the officer's language on the page: "+strings.Join(web.Languages, ", ")+" (default: the unit's officer.language)")
	return cmd
}

func officerCheckPIN(pin string) error {
	n := utf8.RuneCountInString(pin)
	switch {
	case n < officerMinPIN:
		return fmt.Errorf("PIN too short: at least %d characters", officerMinPIN)
	case n > officerMaxPIN:
		return fmt.Errorf("PIN too long: at most %d characters", officerMaxPIN)
	case strings.IndexFunc(pin, unicode.IsControl) >= 0:
		return errors.New("PIN holds control characters")
	}
	return nil
}

// officerReadPINLine reads the first line of r, without its line end.
func officerReadPINLine(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(r, 256).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read PIN from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no PIN on stdin")
	}
	return line, nil
}

// officerPromptPIN asks twice on the terminal, without echo.
func officerPromptPIN(prompt io.Writer) (string, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("stdin is not a terminal: type the PIN on a terminal, or pass --pin-stdin")
	}
	ask := func(what string) (string, error) {
		fmt.Fprint(prompt, what)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read PIN: %w", err)
		}
		return string(b), nil
	}
	pin, err := ask("PIN: ")
	if err != nil {
		return "", err
	}
	if err := officerCheckPIN(pin); err != nil {
		return "", err
	}
	again, err := ask("PIN again: ")
	if err != nil {
		return "", err
	}
	if again != pin {
		return "", errors.New("the two PINs differ")
	}
	return pin, nil
}

func newOfficerListCmd(f *officerFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List officers' ids and names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, a, err := f.load(false)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				for _, o := range a.Officers {
					if err := cli.WriteJSONLine(out, struct {
						ID     string `json:"id"`
						Name   string `json:"name"`
						OSUser string `json:"os_user,omitempty"`
						Lang   string `json:"lang,omitempty"`
					}{o.ID, o.Name, o.OSUser, o.Lang}); err != nil {
						return err
					}
				}
				return nil
			}
			if len(a.Officers) == 0 {
				fmt.Fprintf(out, "no officers in %s\n", path)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tOS USER\tLANGUAGE")
			for _, o := range a.Officers {
				osUser, lang := o.OSUser, o.Lang
				if osUser == "" {
					osUser = "-"
				}
				if lang == "" {
					lang = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.ID, o.Name, osUser, lang)
			}
			return tw.Flush()
		},
	}
}

func newOfficerRemoveCmd(f *officerFlags) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "remove --id ID",
		Short: "Remove an officer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				return cli.Exit(2, errors.New("--id is required"))
			}
			path, a, err := f.load(false)
			if err != nil {
				return err
			}
			ta, err := f.audit(cmd)
			if err != nil {
				return err
			}
			defer ta.Close()
			kept := a.Officers[:0]
			for _, o := range a.Officers {
				if o.ID != id {
					kept = append(kept, o)
				}
			}
			if len(kept) == len(a.Officers) {
				return fmt.Errorf("no officer %q in %s", id, path)
			}
			a.Officers = kept
			if err := a.Save(path); err != nil {
				return fmt.Errorf("save %s: %w", path, err)
			}
			if err := ta.record(audit.KindKeyOperation, "officer_removed", map[string]string{"officer": id}); err != nil {
				return err
			}
			if jsonOutput(cmd) {
				return cli.WriteJSONLine(cmd.OutOrStdout(), map[string]any{"id": id, "action": "removed", "accounts": path, "officers": len(a.Officers)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "officer %s removed (%s: %d officers)\n", id, path, len(a.Officers))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "officer id")
	return cmd
}
