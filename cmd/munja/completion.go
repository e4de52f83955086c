package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// cmdCompletion prints a bash or zsh completion script built from
// commands(), so a new subcommand or flag is completed without an edit here.
func cmdCompletion(e *env, args []string) int {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh") {
		fmt.Fprintln(e.stderr, "usage: munja completion bash|zsh")
		return 2
	}
	names, flags, words := completionWords()
	var cases strings.Builder
	for _, c := range names {
		w := slices.Concat(words[c], flags[c])
		if len(w) > 0 {
			fmt.Fprintf(&cases, "\t%s) opts=%q ;;\n", c, strings.Join(w, " "))
		}
	}
	all := strings.Join(names, " ")
	if args[0] == "bash" {
		fmt.Fprintf(e.stdout, bashCompletion, all, cases.String())
	} else {
		fmt.Fprintf(e.stdout, zshCompletion, all, cases.String())
	}
	return 0
}

var (
	flagRe = regexp.MustCompile(`--[a-z][a-z-]*`)
	wordRe = regexp.MustCompile(`^[a-z]+(\|[a-z]+)*$`)
)

// completionWords reads each command's usage line: its flags (--limit) and
// the words that may follow it (user: add, passwd, list; completion: bash,
// zsh).
func completionWords() (names []string, flags, words map[string][]string) {
	flags, words = map[string][]string{}, map[string][]string{}
	for _, c := range commands() {
		names = append(names, c.name)
		for _, f := range flagRe.FindAllString(c.args, -1) {
			if !slices.Contains(flags[c.name], f) {
				flags[c.name] = append(flags[c.name], f)
			}
		}
		for alt := range strings.SplitSeq(c.args, " | ") {
			first, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			if wordRe.MatchString(first) {
				words[c.name] = append(words[c.name], strings.Split(first, "|")...)
			}
		}
	}
	return names, flags, words
}

const bashCompletion = `# bash completion for munja (munja completion bash)
_munja() {
	local cur prev cmd opts i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$prev" = --config ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--config) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "%s --config" -- "$cur"))
		return
	fi
	opts=
	case $cmd in
%s	esac
	COMPREPLY=($(compgen -W "$opts --config" -- "$cur"))
	case $cmd in logscan) COMPREPLY+=($(compgen -f -- "$cur")) ;; esac
}
complete -F _munja munja
`

const zshCompletion = `#compdef munja
# zsh completion for munja (munja completion zsh)
_munja() {
	local cmd opts i
	if [[ ${words[CURRENT-1]} == --config ]]; then
		_files
		return
	fi
	cmd=
	for ((i = 2; i < CURRENT; i++)); do
		case ${words[i]} in
		--config) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		compadd -- %s --config
		return
	fi
	opts=
	case $cmd in
%s	esac
	compadd -- ${=opts} --config
	[[ $cmd == logscan ]] && _files
}
_munja "$@"
`
