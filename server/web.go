//go:build !tiny

package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsexec/wsexec/handshake"
)

// This file is the server on net/http: it reads every request, serves
// the plain-HTTP routes (static files, CGI, the dev console, redirects,
// metrics) and hands WebSocket upgrades to serve. The tiny build has none
// of it (tiny.go).

// web holds plain HTTP's routes.
type web struct {
	cgi    *scriptDir   // --cgidir
	static http.Handler // --staticdir
}

// newWeb checks the plain-HTTP part of cfg and resolves its directories;
// log is the static files' (see newStatic).
func newWeb(cfg *Config, rt *router, log *slog.Logger) (web, error) {
	var w web
	if cfg.DevConsole {
		for _, d := range []struct{ field, dir string }{{"StaticDir", cfg.StaticDir}, {"CGIDir", cfg.CGIDir}} {
			if d.dir != "" {
				return web{}, &ConfigError{Fields: []string{"DevConsole", d.field}, Reason: "cannot be combined: the console would hide its files"}
			}
		}
	}
	if cfg.CGIDir != "" {
		d, err := newScriptDir(cfg.CGIDir)
		if err != nil {
			return w, &ConfigError{Fields: []string{"CGIDir"}, Reason: err.Error()}
		}
		w.cgi = d
	}
	if cfg.StaticDir != "" {
		// Programs are never served as source, wherever they lie (see
		// hidden).
		var hide hidden
		if w.cgi != nil {
			hide.dirs = append(hide.dirs, w.cgi.root)
		}
		if rt.dir != nil {
			hide.execIn = append(hide.execIn, rt.dir.root)
		}
		if rt.command != nil {
			hide.files = programFiles(rt.command.path, rt.command.args[1:])
		}
		h, err := newStatic(cfg.StaticDir, hide, log)
		if err != nil {
			return w, &ConfigError{Fields: []string{"StaticDir"}, Reason: err.Error()}
		}
		w.static = h
	}
	return w, nil
}

// httpResponder answers a request through net/http.
type httpResponder struct{ w http.ResponseWriter }

func (h httpResponder) refuse(e *handshake.Error) { e.WriteTo(h.w) }

func (h httpResponder) accept(res *handshake.Result, cfg *handshake.Config) (net.Conn, *bufio.Reader, error) {
	return handshake.Accept(h.w, res, cfg)
}

// abort ends the request after a panic that has been logged: net/http
// drops it without another stack trace.
func (h httpResponder) abort() { panic(http.ErrAbortHandler) }

// fromHTTP returns net/http's request hr as the gates read it.
func fromHTTP(hr *http.Request) *request {
	r := &request{
		Request:    *handshake.FromHTTP(hr),
		path:       hr.URL.Path,
		query:      hr.URL.RawQuery,
		remoteAddr: hr.RemoteAddr,
		ctx:        hr.Context(),
	}
	if hr.TLS != nil {
		r.tls = true
		if len(hr.TLS.PeerCertificates) > 0 {
			r.clientCert = hr.TLS.PeerCertificates[0].Subject.String()
		}
	}
	return r
}

// ServeHTTP checks a request (see request.go), passes it through the gates
// every route shares (auth.go) and routes it (see route.go): a WebSocket
// upgrade runs its endpoint's program, a plain request gets the dev
// console, a CGI script or a static file when enabled, anything else a
// clear refusal.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	r := fromHTTP(hr)
	if !s.serve(httpResponder{w}, r) {
		return
	}
	hr.RemoteAddr, hr.Host = r.remoteAddr, r.Host // as the gates left them
	s.routeHTTP(w, hr, r)
}

// routeHTTP sends a plain request to its handler; see the comment at the
// top of route.go. hr is net/http's request, r the same request as the
// gates left it (hr has its client and Host). The endpoint is looked up
// only where it is used: with --dir it is a walk of the directory, which
// a CGI or static request need not pay.
func (s *Server) routeHTTP(w http.ResponseWriter, hr *http.Request, r *request) {
	rw := httpResponder{w}
	if s.rt.cgi != nil && s.serveCGI(w, hr, r) {
		return
	}
	if s.rt.static != nil {
		s.rt.static.ServeHTTP(w, hr)
		return
	}
	if s.rt.cgi != nil {
		// Plain HTTP serves a site of CGI scripts: to a person with a
		// browser a path that names none is a missing page (404, as
		// websocketd), not a WebSocket endpoint to connect to.
		s.refuse(rw, s.log.With("remote", r.remoteAddr, "path", r.path), notFound("no such CGI script"))
		return
	}
	// The dev console comes first in websocketd's order; it comes last
	// here, which is the same since New refuses it with --cgidir or
	// --staticdir, and lets one lookup serve both.
	_, err := s.rt.endpointFor(r)
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case err != nil && s.cfg.DevConsole && s.rt.dir != nil && get && s.serveDirListing(w, hr):
	case err != nil:
		s.refuse(rw, s.log.With("remote", r.remoteAddr, "path", r.path), err)
	case s.cfg.DevConsole && get:
		serveDevConsole(w)
	default:
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, endpointHint, http.StatusUpgradeRequired)
	}
}

// serveDevConsole writes the dev console page. The page is the same bytes
// for every request: nothing from the request is put in it (its script
// reads its own URL and shows it with textContent only).
func serveDevConsole(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; connect-src 'self' ws: wss:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.Write(devConsole)
}

// Run listens on every configured address and serves until ctx is done.
// Then it stops accepting, closes every WebSocket with 1001 (going away),
// stops every program and returns once all are reaped, or after a bound.
// A listener that cannot be opened is an error and nothing is served. Run
// is called once per Server.
func (s *Server) Run(ctx context.Context) error {
	ls, err := s.open()
	if err != nil {
		return err
	}

	// net/http lets 4 KiB past its limit through (bufio slack): take it
	// off so that the documented limit is the real one. Its sum of limit
	// and slack then cannot overflow when the limit is the largest int.
	maxHeader := s.cfg.MaxHeaderBytes - 4<<10
	hs := &http.Server{
		ConnState:         s.fresh.trackFresh,
		Handler:           s.withHeaders(s),
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// rs serves the redirect listeners, if any; it has no WebSockets.
	rs := &http.Server{
		ConnState:         s.fresh.trackFresh,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          hs.ErrorLog,
	}
	// ms serves the metrics, if asked for; its requests are GETs of
	// /metrics alone.
	ms := &http.Server{
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          hs.ErrorLog,
	}
	serveErr := make(chan error, len(ls.main)+len(ls.redirect)+1)
	if ls.metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", &s.metrics)
		ms.Handler = mux
		s.log.Info("metrics", "addr", ls.metrics.addr, "url", "http://"+ls.metrics.urlAddr+"/metrics")
		go func() { serveErr <- ms.Serve(ls.metrics) }()
	}
	for _, ln := range ls.main {
		s.logListening(ln)
		go func() { serveErr <- hs.Serve(ln) }()
	}
	if len(ls.redirect) > 0 {
		scheme := "http"
		if s.cfg.TLS != nil {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(ls.main[0].addr)
		rs.Handler = s.withHeaders(s.redirectHandler(scheme, port))
		for _, ln := range ls.redirect {
			s.log.Info("redirecting", "addr", ln.addr, "to", scheme+"://HOST:"+port+"/")
			go func() { serveErr <- rs.Serve(ln) }()
		}
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}

	// Stop accepting, then end the WebSockets ourselves: Shutdown does not
	// know about hijacked connections.
	shutCtx, limit, cancel := s.shutdown()
	defer cancel()
	if e := hs.Shutdown(shutCtx); e != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", e)
	}
	rs.Shutdown(shutCtx) // only redirects: nothing worth waiting for

	if e := s.waitConns(shutCtx, limit); err == nil {
		err = e
	}
	// The metrics last: they show the connections winding down.
	ms.Close()
	return err
}

// trackFresh is an http.Server.ConnState hook: a connection is fresh
// until it has sent a byte (http.StateNew). http.Server.Shutdown counts
// fresh connections as idle only once they are 5 s old, so a browser's
// spare connection would hold up every shutdown; Run closes them itself,
// and any accepted after that.
func (f *freshConns) trackFresh(c net.Conn, state http.ConnState) {
	if state == http.StateNew {
		f.add(c)
		return
	}
	f.remove(c)
}

// redirectHandler sends every request to the same host, path and query
// on the endpoint's scheme and port: 301 for GET and HEAD, 308 (which
// keeps the method and body) for the rest. A target that is not a path, or
// a malformed Host, is refused as on the endpoint's listener (request.go).
func (s *Server) redirectHandler(scheme, port string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkTarget(r.RequestURI, r.Host); err != nil {
			s.refuse(httpResponder{w}, s.log.With("remote", r.RemoteAddr), err)
			return
		}
		host, _, _ := splitHost(r.Host)
		if host == "" { // HTTP/1.0 without Host: the address it came to
			if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
				host, _, _ = net.SplitHostPort(a.String())
			}
		}
		if (scheme == "https" && port != "443") || (scheme == "http" && port != "80") {
			host = net.JoinHostPort(host, port)
		} else if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		status := http.StatusPermanentRedirect
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			status = http.StatusMovedPermanently
		}
		http.Redirect(w, r, scheme+"://"+host+r.URL.RequestURI(), status)
	})
}

// withHeaders adds Config.Header to every response next writes through w,
// and Config.HeaderHTTP to those that are not WebSocket upgrades. (The
// 101 is written raw by package handshake, with Header and HeaderWS.)
func (s *Server) withHeaders(next http.Handler) http.Handler {
	if len(s.cfg.Header) == 0 && len(s.cfg.HeaderHTTP) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for name, values := range s.cfg.Header {
			h[name] = append(h[name], values...)
		}
		if !handshake.IsUpgrade(handshake.FromHTTP(r)) {
			for name, values := range s.cfg.HeaderHTTP {
				h[name] = append(h[name], values...)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP writes the metrics in the text exposition format.
func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	m.writeTo(&b)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(b.Bytes())
}
