package bot_test

import (
	"testing"

	"github.com/matterbot/matterbot/bot"
)

type namedPlugin struct{}

func (namedPlugin) Setup(*bot.Plugin) error { return nil }
func (namedPlugin) Name() string            { return "deploy" }

type PagerDuty struct{}

func (*PagerDuty) Setup(*bot.Plugin) error { return nil }

func TestPluginName(t *testing.T) {
	for _, tc := range []struct {
		v    bot.Setuper
		want string
	}{
		{namedPlugin{}, "deploy"},
		{&PagerDuty{}, "pagerduty"},
	} {
		if got := bot.PluginName(tc.v); got != tc.want {
			t.Errorf("PluginName(%T) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
