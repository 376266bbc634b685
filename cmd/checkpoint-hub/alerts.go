package main

import (
	"flag"
	"log/slog"

	"github.com/checkpoint-edge/checkpoint/hub"
)

// alertFlags configure confirmed-hit sharing (see hub.AlertPublisher).
type alertFlags struct{}

func (a *alertFlags) register(fs *flag.FlagSet) {}

func (a *alertFlags) publisher(c config, log *slog.Logger) (*hub.AlertPublisher, error) {
	return nil, nil
}
