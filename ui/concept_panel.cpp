#include "ui/concept_panel.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "core/common/sha256.h"

namespace respo::ui {
namespace {

QString tooltipFor(const respo::gpu::ConceptInfo& c) {
  if (c.unreadable)
    return QObject::tr("<b>%1 cannot be used</b><br>%2").arg(QString::fromStdString(c.file.string()).toHtmlEscaped(),
                                                           QString::fromStdString(c.reason).toHtmlEscaped());
  const auto& s = c.settings;
  QString shape;
  for (std::size_t i = 0; i < c.hShape.size(); ++i) shape += (i ? "x" : "") + QString::number(c.hShape[i]);
  QString text = QObject::tr("<b>%1</b> (%2, group %3)").arg(QString::fromStdString(s.name).toHtmlEscaped(),
                                                             respo::concepts::kindName(s.kind),
                                                             QString::fromStdString(s.group).toHtmlEscaped());
  text += QObject::tr("<br>Neutral prompt: %1").arg(QString::fromStdString(s.neutralPrompt).toHtmlEscaped());
  if (!s.targetPrompt.empty())
    text += QObject::tr("<br>Target prompt: %1").arg(QString::fromStdString(s.targetPrompt).toHtmlEscaped());
  if (!s.negativePrompt.empty())
    text += QObject::tr("<br>Negative prompt: %1").arg(QString::fromStdString(s.negativePrompt).toHtmlEscaped());
  text += QObject::tr("<br>Guidance %1 (trajectory %2), %3 steps, seed %4")
              .arg(s.targetGuidance).arg(s.trajectoryGuidance).arg(s.steps).arg(s.seed);
  text += QObject::tr("<br>Learning rates RAM %1, SAM %2, &lambda; %3")
              .arg(s.ramLearningRate).arg(s.samLearningRate).arg(s.semanticWeight);
  text += QObject::tr("<br>Bottleneck %1, base model %2").arg(shape, QString::fromStdString(c.fingerprint));
  text += QObject::tr("<br>File: %1").arg(QString::fromStdString(c.file.string()).toHtmlEscaped());
  if (!c.fits) text += QObject::tr("<br><b>Not usable here:</b> %1").arg(QString::fromStdString(c.reason).toHtmlEscaped());
  return text;
}

constexpr int kFileRole = Qt::UserRole;
constexpr int kDefaultPercent = 100;

}  // namespace

ConceptPanel::ConceptPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  tree_ = new QTreeWidget(this);
  tree_->setObjectName("conceptTree");
  tree_->setColumnCount(3);
  tree_->setHeaderLabels({tr("Concept"), tr("RAM"), tr("SAM")});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->setRootIsDecorated(true);
  tree_->setSelectionMode(QAbstractItemView::NoSelection);
  tree_->setMinimumHeight(180);
  layout->addWidget(tree_);
  empty_ = new QLabel(tr("No concept modules are installed. Train one with the concept wizard or "
                         "`respodiff train-concept`."), this);
  empty_->setObjectName("conceptsEmptyLabel");
  empty_->setWordWrap(true);
  layout->addWidget(empty_);
  connect(tree_, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
    if (column == 0 && !item->data(0, kFileRole).isNull()) Q_EMIT conceptsEdited();
  });
  setConcepts({});
}

QSlider* ConceptPanel::addStrengthSlider(QTreeWidgetItem* item, int column, const QString& name, int percent,
                                         bool enabled) {
  auto* box = new QWidget(tree_);
  auto* row = new QHBoxLayout(box);
  row->setContentsMargins(2, 0, 2, 0);
  auto* slider = new QSlider(Qt::Horizontal, box);
  slider->setObjectName(name);
  slider->setRange(0, 150);
  slider->setPageStep(10);
  slider->setValue(percent);
  slider->setEnabled(enabled);
  auto* label = new QLabel(QString("%1%").arg(percent), box);
  label->setMinimumWidth(label->fontMetrics().horizontalAdvance("150%"));
  row->addWidget(slider, 1);
  row->addWidget(label);
  connect(slider, &QSlider::valueChanged, label, [label](int v) { label->setText(QString("%1%").arg(v)); });
  // Releasing the handle (or a key press) is one edit; dragging is not a stream of them.
  connect(slider, &QSlider::sliderReleased, this, &ConceptPanel::conceptsEdited);
  connect(slider, &QSlider::actionTriggered, this, [this, slider](int) {
    if (!slider->isSliderDown()) QMetaObject::invokeMethod(this, &ConceptPanel::conceptsEdited, Qt::QueuedConnection);
  });
  tree_->setItemWidget(item, column, box);
  return slider;
}

void ConceptPanel::addGroupControls(const QString& group, QTreeWidgetItem* item, const QStringList& members,
                                    const QMap<QString, QPair<QString, double>>& previous) {
  Group g;
  g.item = item;
  g.policy = new QComboBox(tree_);
  g.policy->setObjectName("policy:" + group);
  g.policy->addItem(tr("Random per image"), QStringLiteral("random"));
  g.policy->addItem(tr("Balanced batch"), QStringLiteral("balanced"));
  for (const auto& member : members) g.policy->addItem(tr("Always %1").arg(member), "fixed:" + member);
  g.policy->setToolTip(tr("Which member of the group each image gets"));
  g.weight = new QDoubleSpinBox(tree_);
  g.weight->setObjectName("weight:" + group);
  g.weight->setRange(0, 2);
  g.weight->setSingleStep(0.1);
  g.weight->setValue(1.0);
  g.weight->setPrefix(tr("weight "));
  g.weight->setToolTip(tr("The group's share when several groups act together (intersectional use)"));
  // Keep the user's choice across a library refresh.
  if (previous.contains(group)) {
    const int index = g.policy->findData(previous[group].first);
    if (index >= 0) g.policy->setCurrentIndex(index);
    g.weight->setValue(previous[group].second);
  }
  connect(g.policy, &QComboBox::currentIndexChanged, this, &ConceptPanel::conceptsEdited);
  connect(g.weight, &QDoubleSpinBox::editingFinished, this, &ConceptPanel::conceptsEdited);
  tree_->setItemWidget(item, 1, g.policy);
  tree_->setItemWidget(item, 2, g.weight);
  groups_[group] = g;
}

void ConceptPanel::setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts) {
  // What the user had set, by file.
  QMap<QString, std::tuple<bool, int, int>> previous;
  for (const auto& r : rows_)
    previous[QString::fromStdString(r.info.file.string())] = {r.item->checkState(0) == Qt::Checked, r.ram->value(),
                                                              r.sam->value()};
  QMap<QString, QPair<QString, double>> previousGroups;
  for (auto it = groups_.begin(); it != groups_.end(); ++it)
    previousGroups[it.key()] = {it->policy->currentData().toString(), it->weight->value()};
  const QSignalBlocker block(tree_);
  tree_->clear();  // deletes the rows' and groups' widgets too
  rows_.clear();
  groups_.clear();

  auto* fairness = new QTreeWidgetItem(tree_, {tr("Fairness")});
  auto* safety = new QTreeWidgetItem(tree_, {tr("Safety")});
  // Files in the library folders that are not readable modules: listed with the reason, so one bad
  // file is visible and never hides the others.
  auto* unreadable = new QTreeWidgetItem(tree_, {tr("Cannot be read")});
  unreadable->setData(0, Qt::UserRole + 1, QStringLiteral("unreadable"));
  for (auto* top : {fairness, safety, unreadable}) {
    top->setFlags(Qt::ItemIsEnabled);
    QFont font = top->font(0);
    font.setBold(true);
    top->setFont(0, font);
  }
  QMap<QString, QTreeWidgetItem*> groupItems;
  QMap<QString, QStringList> groupMembers;
  for (const auto& c : concepts) {
    if (c.unreadable) {
      auto* item = new QTreeWidgetItem(unreadable, {QString::fromStdString(c.settings.name)});
      item->setData(0, kFileRole, QString::fromStdString(c.file.string()));
      item->setFlags(Qt::NoItemFlags);
      item->setIcon(0, style()->standardIcon(QStyle::SP_MessageBoxWarning));
      const QString tip = tooltipFor(c);
      for (int column = 0; column < 3; ++column) item->setToolTip(column, tip);
      continue;
    }
    QTreeWidgetItem* parent = safety;
    if (c.settings.kind == respo::concepts::ConceptKind::Fairness) {
      const QString group = QString::fromStdString(c.settings.group);
      if (!groupItems.contains(group)) {
        groupItems[group] = new QTreeWidgetItem(fairness, {group});
        groupItems[group]->setFlags(Qt::ItemIsEnabled);
      }
      parent = groupItems[group];
      if (c.fits) groupMembers[group] << QString::fromStdString(c.settings.name);
    }
    const QString file = QString::fromStdString(c.file.string());
    const auto [checked, ram, sam] = previous.value(file, {false, kDefaultPercent, kDefaultPercent});
    auto* item = new QTreeWidgetItem(parent, {QString::fromStdString(c.settings.name)});
    item->setData(0, kFileRole, file);
    item->setFlags(c.fits ? Qt::ItemIsEnabled | Qt::ItemIsUserCheckable : Qt::ItemIsUserCheckable);
    item->setCheckState(0, c.fits && checked ? Qt::Checked : Qt::Unchecked);
    const QString tip = tooltipFor(c);
    for (int column = 0; column < 3; ++column) item->setToolTip(column, tip);
    if (!c.fits) item->setText(0, item->text(0) + tr(" (not for this model)"));
    Row row{item, c, nullptr, nullptr};
    const QString name = QString::fromStdString(c.settings.name);
    row.ram = addStrengthSlider(item, 1, "ram:" + name, ram, c.fits);
    row.sam = addStrengthSlider(item, 2, "sam:" + name, sam, c.fits);
    row.ram->setToolTip(tr("RAM strength: the responsible-concept module (0 off, 100% as trained)"));
    row.sam->setToolTip(tr("SAM strength: the semantic module that keeps the prompt's meaning"));
    rows_.push_back(row);
  }
  for (auto it = groupItems.begin(); it != groupItems.end(); ++it)
    addGroupControls(it.key(), it.value(), groupMembers.value(it.key()), previousGroups);
  fairness->setHidden(fairness->childCount() == 0);
  safety->setHidden(safety->childCount() == 0);
  unreadable->setHidden(unreadable->childCount() == 0);
  tree_->expandAll();
  tree_->setVisible(!concepts.empty());
  empty_->setVisible(concepts.empty());
}

respo::concepts::Selection ConceptPanel::selection() const {
  respo::concepts::Selection out;
  for (const auto& r : rows_)
    if (r.info.fits && r.item->checkState(0) == Qt::Checked)
      out.modules.push_back({r.info.identity(), r.info.file, r.ram->value() / 100.0, r.sam->value() / 100.0});
  out.groups = groupOptions();
  return out;
}

std::map<std::string, respo::concepts::GroupOptions> ConceptPanel::groupOptions() const {
  std::map<std::string, respo::concepts::GroupOptions> out;
  for (auto it = groups_.begin(); it != groups_.end(); ++it) {
    respo::concepts::GroupOptions options;
    const QString policy = it->policy->currentData().toString();
    if (policy.startsWith("fixed:")) {
      options.policy = respo::concepts::FairnessPolicy::Fixed;
      options.fixedMember = policy.mid(6).toStdString();
    } else {
      options.policy = respo::concepts::parsePolicy(policy.toStdString());
    }
    options.weight = it->weight->value();
    out[it.key().toStdString()] = options;
  }
  return out;
}

int ConceptPanel::conceptCount() const { return static_cast<int>(rows_.size()); }

QStringList ConceptPanel::applySelection(const respo::concepts::Selection& selection) {
  const QSignalBlocker block(tree_);
  QStringList missing;
  for (auto& r : rows_) r.item->setCheckState(0, Qt::Unchecked);
  for (const auto& c : selection.modules) {
    const QString name = QString::fromStdString(c.id.name);
    auto free = [&](const Row& r) { return r.info.fits && r.item->checkState(0) == Qt::Unchecked; };
    auto row = std::find_if(rows_.begin(), rows_.end(), [&](const Row& r) { return free(r) && r.info.identity().matches(c.id); });
    if (row == rows_.end()) {
      const QString hash = QString::fromStdString(respo::hashing::shortHash(c.id.fileHash));
      auto sameName = std::find_if(rows_.begin(), rows_.end(), [&](const Row& r) { return r.info.fits && r.info.settings.name == c.id.name; });
      if (c.id.hasHash() && sameName != rows_.end())
        missing << tr("'%1' (hash %2): a different module of that name is installed (hash %3), left off")
                       .arg(name, hash, QString::fromStdString(respo::hashing::shortHash(sameName->info.fileHash)));
      else if (c.id.hasHash())
        missing << tr("'%1' (hash %2) is not installed for this model").arg(name, hash);
      else
        missing << tr("'%1' is not installed for this model").arg(name);
      continue;
    }
    if (!c.id.hasHash() && std::count_if(rows_.begin(), rows_.end(), [&](const Row& r) { return free(r) && r.info.identity().matches(c.id); }) > 1)
      missing << tr("'%1': the picture records no hash and several modules have that name; took %2")
                     .arg(name, QString::fromStdString(row->info.file.string()));
    const QSignalBlocker blockRam(row->ram), blockSam(row->sam);
    row->item->setCheckState(0, Qt::Checked);
    row->ram->setValue(static_cast<int>(std::lround(c.ramStrength * 100)));
    row->sam->setValue(static_cast<int>(std::lround(c.samStrength * 100)));
    // The sliders' labels follow valueChanged, which the blockers held back.
    for (auto* slider : {row->ram, row->sam})
      if (auto* label = slider->parentWidget()->findChild<QLabel*>()) label->setText(QString("%1%").arg(slider->value()));
  }
  for (const auto& [name, options] : selection.groups) {
    auto group = groups_.find(QString::fromStdString(name));
    if (group == groups_.end()) continue;
    const QSignalBlocker blockPolicy(group->policy), blockWeight(group->weight);
    QString key = respo::concepts::policyName(options.policy);
    if (options.policy == respo::concepts::FairnessPolicy::Fixed) key = "fixed:" + QString::fromStdString(options.fixedMember);
    const int index = group->policy->findData(key);
    if (index >= 0) group->policy->setCurrentIndex(index);
    else missing << tr("the member '%1' of group '%2' is not installed").arg(QString::fromStdString(options.fixedMember), QString::fromStdString(name));
    group->weight->setValue(options.weight);
  }
  return missing;
}

bool ConceptPanel::setConceptEnabled(const QString& name, bool enabled) {
  for (auto& r : rows_) {
    if (!r.info.fits || QString::fromStdString(r.info.settings.name) != name) continue;
    r.item->setCheckState(0, enabled ? Qt::Checked : Qt::Unchecked);  // announces the edit
    return true;
  }
  return false;
}

}  // namespace respo::ui
