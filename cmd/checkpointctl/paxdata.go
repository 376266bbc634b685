package main

import (
	"github.com/checkpoint-edge/checkpoint/paxdata"
	"github.com/checkpoint-edge/checkpoint/sync/bundle"
	"github.com/checkpoint-edge/checkpoint/sync/channel"
)

func init() {
	channelConsumers[bundle.KindPrearrival] = func() channel.Consumer { return paxdata.NewArrivals(nil) }
}
