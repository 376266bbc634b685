package hub

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is an operator's client of the hub API (checkpointctl hq): it
// presents an operator certificate and tries the given hub URLs in turn.
type Client struct {
	urls []string
	http *http.Client
}

// NewClient returns a client for the hubs at urls (https://host:port).
func NewClient(urls []string, tlsCfg *tls.Config) (*Client, error) {
	var us []string
	for _, u := range urls {
		if !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("hub: %q is not an https:// URL", u)
		}
		us = append(us, strings.TrimRight(u, "/"))
	}
	if len(us) == 0 {
		return nil, errors.New("hub: no hub URL")
	}
	return &Client{urls: us, http: &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, TLSHandshakeTimeout: 30 * time.Second}}}, nil
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// do sends a request to each hub in turn until one answers without a
// transport error or 5xx, and decodes a 200 JSON answer into v.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, v any) error {
	var last error
	for _, base := range c.urls {
		u := base + path
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			last = fmt.Errorf("%w: %s: %w", ErrUnavailable, base, err)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			last = fmt.Errorf("%w: %s: %w", ErrUnavailable, base, err)
			continue
		}
		if resp.StatusCode >= 500 {
			last = fmt.Errorf("%w: %s: %s", ErrUnavailable, base, resp.Status)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			var e apiError
			json.Unmarshal(body, &e)
			err := fmt.Errorf("hub: %s: %s", resp.Status, e.Error)
			switch resp.StatusCode {
			case http.StatusBadRequest:
				err = fmt.Errorf("%w: %s", ErrBadQuery, e.Error)
			case http.StatusNotFound:
				err = fmt.Errorf("%w: %s", ErrUnknownUnit, e.Error)
			}
			return err
		}
		return json.Unmarshal(body, v)
	}
	return last
}

// Results runs a query (one page).
func (c *Client) Results(ctx context.Context, q Query) (Page, error) {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("unit", q.Unit)
	if q.After > 0 {
		set("after", strconv.FormatUint(q.After, 10))
	}
	if !q.Since.IsZero() {
		set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	set("kind", q.Kind)
	set("decision", q.Decision)
	set("category", q.Category)
	set("entry", q.Entry)
	set("order", q.Order)
	set("cursor", q.Cursor)
	if q.Limit > 0 {
		set("limit", strconv.Itoa(q.Limit))
	}
	var p Page
	err := c.do(ctx, http.MethodGet, "/v1/results", v, &p)
	return p, err
}

// Units lists the units.
func (c *Client) Units(ctx context.Context) ([]UnitInfo, error) {
	var r struct {
		Units []UnitInfo `json:"units"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/units", nil, &r)
	return r.Units, err
}

// EntryHits counts hits per watchlist entry.
func (c *Client) EntryHits(ctx context.Context, q EntryQuery) ([]EntrySummary, error) {
	v := url.Values{}
	if q.Entry != "" {
		v.Set("entry", q.Entry)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var r struct {
		Entries []EntrySummary `json:"entries"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/entries", v, &r)
	return r.Entries, err
}

// ResetAudit clears a unit's audit flag; its next head is adopted.
func (c *Client) ResetAudit(ctx context.Context, unit string) error {
	var r struct{}
	return c.do(ctx, http.MethodPost, "/v1/units/"+url.PathEscape(unit)+"/audit/reset", nil, &r)
}

// Stream follows the live hit feed of the first hub that answers, calling
// fn for each event until ctx ends or the stream does (then it returns
// the reason; callers reconnect).
func (c *Client) Stream(ctx context.Context, fn func(FeedEvent)) error {
	var last error
	for _, base := range c.urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/hits/stream", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := c.http.Do(req)
		if err != nil {
			last = fmt.Errorf("%w: %s: %w", ErrUnavailable, base, err)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			last = fmt.Errorf("hub: %s: feed: %s", base, resp.Status)
			if resp.StatusCode >= 500 {
				continue
			}
			return last
		}
		err = readSSE(resp.Body, fn)
		resp.Body.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return last
}

// readSSE parses a server-sent event stream: "event:" and "data:" lines,
// an empty line ending each event; comments (":") are heartbeats.
func readSSE(r io.Reader, fn func(FeedEvent)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data != "" && (event == "hit" || event == "officer_decision") {
				var e FeedEvent
				if err := json.Unmarshal([]byte(data), &e); err == nil {
					fn(e)
				}
			}
			if event == "lagged" {
				return errors.New("hub: feed: this console fell behind and was disconnected")
			}
			event, data = "", ""
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(line[len("event:"):])
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(line[len("data:"):], " ")
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.EOF
}
