//go:build !tiny

package server

import (
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"text/template"
)

// With --dir and --devconsole, a plain GET for a directory (/ included)
// gets a page listing what is in it: each script, linking to its dev
// console, and each subdirectory, linking to its own listing. It is the way
// in for a person trying the endpoints from a browser; without
// --devconsole a directory is a 404, and nothing is listed.

// maxListed bounds the entries a listing reads; past it the page says so.
const maxListed = 1000

// dirAt returns the real path of the directory that URL path p names under
// d, walking it as resolve does (no dot-file, no empty segment but a final
// one, nothing out of d by a symlink), or false.
func (d *scriptDir) dirAt(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok || hasControl(p) || hasDotSegment(p) {
		return "", false
	}
	dir := d.root
	if rest = strings.TrimSuffix(rest, "/"); rest != "" {
		for seg := range strings.SplitSeq(rest, "/") {
			if badSegment(seg) != "" {
				return "", false
			}
			dir = filepath.Join(dir, seg)
		}
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil || !within(d.root, real) {
		return "", false
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return "", false
	}
	return real, true
}

// listEntry is one link of a listing.
type listEntry struct {
	Name string
	Href string // the URL path, escaped
}

// listing is what the page shows.
type listing struct {
	Path    string
	Up      string // the parent's listing, escaped; "" at the root
	Dirs    []listEntry
	Scripts []listEntry
	More    bool // more than maxListed entries: the rest are not shown
}

// listDir reads the directory at real, the listing of URL path p (which
// ends with a slash): its scripts and subdirectories, by name, those that
// resolve would refuse left out.
func (d *scriptDir) listDir(real, p string) listing {
	l := listing{Path: p}
	if p != "/" {
		up := path.Dir(strings.TrimSuffix(p, "/"))
		if up != "/" {
			up += "/"
		}
		l.Up = escapePath(up)
	}
	ents, _ := os.ReadDir(real) // what could be read; an unreadable directory lists nothing
	if len(ents) > maxListed {
		ents, l.More = ents[:maxListed], true
	}
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") || hasControl(name) {
			continue
		}
		target, err := filepath.EvalSymlinks(filepath.Join(real, name))
		if err != nil || !within(d.root, target) {
			continue
		}
		fi, err := os.Stat(target)
		switch {
		case err != nil:
		case fi.IsDir():
			l.Dirs = append(l.Dirs, listEntry{Name: name + "/", Href: escapePath(p + name + "/")})
		case isExec(fi.Mode()) && syscall.Access(target, xOK) == nil:
			l.Scripts = append(l.Scripts, listEntry{Name: name, Href: escapePath(p + name)})
		}
	}
	return l
}

func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }

// serveDirListing answers a plain GET or HEAD whose path names a directory
// under --dir with its listing, and reports whether it did. A directory
// named without its final slash is redirected to it, so that the page's
// URL is the listing's.
func (s *Server) serveDirListing(w http.ResponseWriter, r *http.Request) bool {
	real, ok := s.rt.dir.dirAt(r.URL.Path)
	if !ok {
		return false
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, escapePath(r.URL.Path+"/"), http.StatusMovedPermanently)
		return true
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	dirListing.Execute(w, s.rt.dir.listDir(real, r.URL.Path))
	return true
}

// dirListing is the listing page. Every value goes through the html
// function: the names as text, the links (URL paths made by escapePath,
// so each starts with a slash and has no quote) as attribute values. It
// is text/template, which urfave/cli links anyway, not html/template,
// which would add 0.26 MB to the binary (docs/benchmarks.md).
var dirListing = template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>wsexec: {{.Path | html}}</title>
<style>
  body { margin: 0; background: #fafafa; color: #1d1d1f; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { padding: 10px 14px; border-bottom: 1px solid #d8d8dc; background: #fff; }
  h1 { margin: 0; font-size: 15px; font-weight: 600; }
  h1 span { color: #6b6b70; font-weight: 400; }
  main { padding: 8px 14px; }
  code, a { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { padding: 3px 0; }
  a { color: #1747a6; text-decoration: none; }
  a:hover { text-decoration: underline; }
  .kind { display: inline-block; width: 5.5em; color: #6b6b70; }
  .none { color: #6b6b70; font-style: italic; }
</style>
</head>
<body>
<header><h1>wsexec <span>endpoints under</span> <code id="path">{{.Path | html}}</code></h1></header>
<main>
<ul id="entries">
{{- if .Up}}
<li><span class="kind">up</span><a class="up" href="{{.Up | html}}">..</a></li>
{{- end}}
{{- range .Dirs}}
<li><span class="kind">directory</span><a class="dir" href="{{.Href | html}}">{{.Name | html}}</a></li>
{{- end}}
{{- range .Scripts}}
<li><span class="kind">console</span><a class="script" href="{{.Href | html}}">{{.Name | html}}</a></li>
{{- end}}
</ul>
{{- if not (or .Dirs .Scripts)}}
<p class="none">No executable script here: make the scripts executable (chmod +x).</p>
{{- end}}
{{- if .More}}
<p class="none">Only the first entries are shown.</p>
{{- end}}
</main>
</body>
</html>
`))
