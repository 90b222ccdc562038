#include "ui/concept_selection_model.h"

#include <QApplication>
#include <QFont>
#include <QMap>
#include <QStyle>
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

QString file(const respo::gpu::ConceptInfo& c) { return QString::fromStdString(c.file.string()); }

}  // namespace

ConceptSelectionModel::ConceptSelectionModel(QObject* parent) : QAbstractItemModel(parent) { setConcepts({}); }

int ConceptSelectionModel::add(Kind kind, int parent, QString name) {
  Node node;
  node.kind = kind;
  node.parent = parent;
  node.name = std::move(name);
  nodes_.push_back(std::move(node));
  const int id = static_cast<int>(nodes_.size()) - 1;
  if (parent >= 0) nodes_[static_cast<std::size_t>(parent)].children.push_back(id);
  return id;
}

void ConceptSelectionModel::setConcepts(const std::vector<respo::gpu::ConceptInfo>& concepts) {
  // What the user had set: modules by file, groups by name.
  QMap<QString, Node> previousModules, previousGroups;
  for (const auto& n : nodes_) {
    if (n.kind == Kind::Module) previousModules[file(n.info)] = n;
    if (n.kind == Kind::Group) previousGroups[n.name] = n;
  }
  beginResetModel();
  nodes_.clear();
  top_ = {add(Kind::Category, -1, tr("Fairness")), add(Kind::Category, -1, tr("Safety")),
          add(Kind::Category, -1, tr("Cannot be read"))};
  QMap<QString, int> groups;
  for (const auto& c : concepts) {
    const QString name = QString::fromStdString(c.settings.name);
    if (c.unreadable) {
      nodes_[static_cast<std::size_t>(add(Kind::Unreadable, top_[2], name))].info = c;
      continue;
    }
    int parent = top_[1];
    if (c.settings.kind == respo::concepts::ConceptKind::Fairness) {
      const QString group = QString::fromStdString(c.settings.group);
      if (!groups.contains(group)) {
        const int g = add(Kind::Group, top_[0], group);
        if (previousGroups.contains(group)) {
          nodes_[static_cast<std::size_t>(g)].policy = previousGroups[group].policy;
          nodes_[static_cast<std::size_t>(g)].weight = previousGroups[group].weight;
          nodes_[static_cast<std::size_t>(g)].shares = previousGroups[group].shares;
        }
        groups[group] = g;
      }
      parent = groups[group];
      if (c.fits) nodes_[static_cast<std::size_t>(parent)].members << name;
    }
    const int id = add(Kind::Module, parent, name);
    auto& node = nodes_[static_cast<std::size_t>(id)];
    node.info = c;
    if (const auto before = previousModules.find(file(c)); before != previousModules.end()) {
      node.checked = c.fits && before->checked;
      node.ram = before->ram;
      node.sam = before->sam;
    }
  }
  // A fixed member that is no longer installed falls back to random.
  for (auto& n : nodes_)
    if (n.kind == Kind::Group && n.policy.startsWith("fixed:") && !n.members.contains(n.policy.mid(6)))
      n.policy = QStringLiteral("random");
  endResetModel();
}

std::vector<int> ConceptSelectionModel::modules() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].kind == Kind::Module) out.push_back(static_cast<int>(i));
  return out;
}

int ConceptSelectionModel::conceptCount() const { return static_cast<int>(modules().size()); }

respo::concepts::Selection ConceptSelectionModel::selection() const {
  respo::concepts::Selection out;
  for (const int id : modules()) {
    const auto& n = nodes_[static_cast<std::size_t>(id)];
    if (n.info.fits && n.checked) out.modules.push_back({n.info.identity(), n.info.file, n.ram / 100.0, n.sam / 100.0});
  }
  out.groups = groupOptions();
  return out;
}

std::map<std::string, respo::concepts::GroupOptions> ConceptSelectionModel::groupOptions() const {
  std::map<std::string, respo::concepts::GroupOptions> out;
  for (const auto& n : nodes_) {
    if (n.kind != Kind::Group) continue;
    respo::concepts::GroupOptions options;
    if (n.policy.startsWith("fixed:")) {
      options.policy = respo::concepts::FairnessPolicy::Fixed;
      options.fixedMember = n.policy.mid(6).toStdString();
    } else {
      options.policy = respo::concepts::parsePolicy(n.policy.toStdString());
    }
    options.weight = n.weight;
    options.shares = n.shares;
    out[n.name.toStdString()] = options;
  }
  return out;
}

QStringList ConceptSelectionModel::applySelection(const respo::concepts::Selection& selection) {
  QStringList notes;
  const auto all = modules();
  for (const int id : all) nodes_[static_cast<std::size_t>(id)].checked = false;
  auto node = [&](int id) -> Node& { return nodes_[static_cast<std::size_t>(id)]; };
  for (const auto& c : selection.modules) {
    const QString name = QString::fromStdString(c.id.name);
    auto free = [&](int id) { return node(id).info.fits && !node(id).checked; };
    auto match = [&](int id) { return free(id) && node(id).info.identity().matches(c.id); };
    const auto found = std::find_if(all.begin(), all.end(), match);
    if (found == all.end()) {
      const QString hash = QString::fromStdString(respo::hashing::shortHash(c.id.fileHash));
      const auto sameName = std::find_if(all.begin(), all.end(),
                                         [&](int id) { return node(id).info.fits && node(id).info.settings.name == c.id.name; });
      if (c.id.hasHash() && sameName != all.end())
        notes << tr("'%1' (hash %2): a different module of that name is installed (hash %3), left off")
                     .arg(name, hash, QString::fromStdString(respo::hashing::shortHash(node(*sameName).info.fileHash)));
      else if (c.id.hasHash())
        notes << tr("'%1' (hash %2) is not installed for this model").arg(name, hash);
      else
        notes << tr("'%1' is not installed for this model").arg(name);
      continue;
    }
    if (!c.id.hasHash() && std::count_if(all.begin(), all.end(), match) > 1)
      notes << tr("'%1': the picture records no hash and several modules have that name; took %2")
                   .arg(name, QString::fromStdString(node(*found).info.file.string()));
    auto& n = node(*found);
    n.checked = true;
    n.ram = std::clamp(static_cast<int>(std::lround(c.ramStrength * 100)), 0, kMaxPercent);
    n.sam = std::clamp(static_cast<int>(std::lround(c.samStrength * 100)), 0, kMaxPercent);
  }
  for (const auto& [name, options] : selection.groups) {
    const auto group = std::find_if(nodes_.begin(), nodes_.end(), [&](const Node& n) {
      return n.kind == Kind::Group && n.name == QString::fromStdString(name);
    });
    if (group == nodes_.end()) continue;
    QString key = respo::concepts::policyName(options.policy);
    if (options.policy == respo::concepts::FairnessPolicy::Fixed) {
      key = "fixed:" + QString::fromStdString(options.fixedMember);
      if (!group->members.contains(QString::fromStdString(options.fixedMember))) {
        notes << tr("the member '%1' of group '%2' is not installed")
                     .arg(QString::fromStdString(options.fixedMember), QString::fromStdString(name));
        key.clear();
      }
    }
    if (!key.isEmpty()) group->policy = key;
    group->weight = options.weight;
    group->shares.clear();
    bool sharesKnown = true;
    for (const auto& share : options.shares) sharesKnown = sharesKnown && group->members.contains(QString::fromStdString(share.first));
    if (sharesKnown)
      group->shares = options.shares;
    else
      notes << tr("the target shares of group '%1' name a member that is not installed; the group draws evenly")
                   .arg(QString::fromStdString(name));
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].kind == Kind::Category) continue;
    const int row = rowOf(static_cast<int>(i));
    Q_EMIT dataChanged(createIndex(row, 0, static_cast<quintptr>(i)), createIndex(row, ColumnCount - 1, static_cast<quintptr>(i)));
  }
  return notes;
}

bool ConceptSelectionModel::setGroupShares(const QModelIndex& index, const std::vector<std::pair<std::string, double>>& shares) {
  const int id = nodeOf(index);
  if (id < 0 || nodes_[static_cast<std::size_t>(id)].kind != Kind::Group) return false;
  auto& n = nodes_[static_cast<std::size_t>(id)];
  double total = 0;
  for (const auto& [member, share] : shares) {
    if (!n.members.contains(QString::fromStdString(member)) || !std::isfinite(share) || share < 0) return false;
    total += share;
  }
  if (!shares.empty() && !(total > 0)) return false;
  n.shares = shares;
  Q_EMIT dataChanged(index.siblingAtColumn(NameColumn), index.siblingAtColumn(NameColumn));
  return true;
}

QString ConceptSelectionModel::sharesText(const std::vector<std::pair<std::string, double>>& shares) {
  QStringList parts;
  for (const auto& [member, share] : shares) parts << QString::fromStdString(member) + "=" + QString::number(share, 'g', 10);
  return parts.join(", ");
}

std::optional<std::vector<std::pair<std::string, double>>> ConceptSelectionModel::parseShares(const QString& text) {
  std::vector<std::pair<std::string, double>> out;
  if (text.trimmed().isEmpty()) return out;
  for (const auto& item : text.split(',')) {
    const auto eq = item.lastIndexOf('=');
    bool ok = false;
    const double share = eq < 0 ? 0 : item.mid(eq + 1).trimmed().toDouble(&ok);
    if (!ok || item.left(eq).trimmed().isEmpty()) return std::nullopt;
    out.push_back({item.left(eq).trimmed().toStdString(), share});
  }
  return out;
}

std::vector<std::pair<std::string, double>> ConceptSelectionModel::groupShares(const QModelIndex& index) const {
  const int id = nodeOf(index);
  if (id < 0 || nodes_[static_cast<std::size_t>(id)].kind != Kind::Group) return {};
  return nodes_[static_cast<std::size_t>(id)].shares;
}

bool ConceptSelectionModel::setConceptEnabled(const QString& name, bool enabled) {
  for (const int id : modules()) {
    const auto& n = nodes_[static_cast<std::size_t>(id)];
    if (!n.info.fits || n.name != name) continue;
    return setData(createIndex(rowOf(id), NameColumn, static_cast<quintptr>(id)), enabled ? Qt::Checked : Qt::Unchecked,
                   Qt::CheckStateRole);
  }
  return false;
}

void ConceptSelectionModel::setStrength(const QModelIndex& index, int percent) {
  setData(index, percent, Qt::EditRole);
}

int ConceptSelectionModel::strength(const QModelIndex& index) const { return index.data(Qt::EditRole).toInt(); }

void ConceptSelectionModel::setGroupPolicy(const QModelIndex& index, const QString& key) {
  setData(index.siblingAtColumn(RamColumn), key, Qt::EditRole);
}

void ConceptSelectionModel::setGroupWeight(const QModelIndex& index, double weight) {
  setData(index.siblingAtColumn(SamColumn), weight, Qt::EditRole);
}

QString ConceptSelectionModel::groupPolicy(const QModelIndex& index) const {
  return index.siblingAtColumn(RamColumn).data(Qt::EditRole).toString();
}

double ConceptSelectionModel::groupWeight(const QModelIndex& index) const {
  return index.siblingAtColumn(SamColumn).data(Qt::EditRole).toDouble();
}

QList<QPair<QString, QString>> ConceptSelectionModel::policyChoices(const QModelIndex& index) const {
  QList<QPair<QString, QString>> out{{QStringLiteral("random"), tr("Random per image")},
                                     {QStringLiteral("balanced"), tr("Balanced batch")}};
  const int id = nodeOf(index);
  if (id >= 0)
    for (const auto& member : nodes_[static_cast<std::size_t>(id)].members) out.append({"fixed:" + member, tr("Always %1").arg(member)});
  return out;
}

QString ConceptSelectionModel::kind(const QModelIndex& index) const { return index.data(KindRole).toString(); }

int ConceptSelectionModel::nodeOf(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this) return -1;
  return static_cast<int>(index.internalId());
}

int ConceptSelectionModel::rowOf(int node) const {
  const int parent = nodes_[static_cast<std::size_t>(node)].parent;
  const auto& siblings = parent < 0 ? top_ : nodes_[static_cast<std::size_t>(parent)].children;
  return static_cast<int>(std::find(siblings.begin(), siblings.end(), node) - siblings.begin());
}

QModelIndex ConceptSelectionModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= ColumnCount || row < 0) return {};
  const int p = nodeOf(parent);
  const auto& children = p < 0 ? top_ : nodes_[static_cast<std::size_t>(p)].children;
  if (row >= static_cast<int>(children.size())) return {};
  return createIndex(row, column, static_cast<quintptr>(children[static_cast<std::size_t>(row)]));
}

QModelIndex ConceptSelectionModel::parent(const QModelIndex& child) const {
  const int id = nodeOf(child);
  if (id < 0) return {};
  const int p = nodes_[static_cast<std::size_t>(id)].parent;
  if (p < 0) return {};
  return createIndex(rowOf(p), 0, static_cast<quintptr>(p));
}

int ConceptSelectionModel::rowCount(const QModelIndex& parent) const {
  if (parent.column() > 0) return 0;
  const int p = nodeOf(parent);
  return static_cast<int>(p < 0 ? top_.size() : nodes_[static_cast<std::size_t>(p)].children.size());
}

int ConceptSelectionModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QVariant ConceptSelectionModel::data(const QModelIndex& index, int role) const {
  const int id = nodeOf(index);
  if (id < 0) return {};
  const auto& n = nodes_[static_cast<std::size_t>(id)];
  const int column = index.column();
  if (role == KindRole) {
    switch (n.kind) {
      case Kind::Category: return QStringLiteral("category");
      case Kind::Group: return QStringLiteral("group");
      case Kind::Module: return QStringLiteral("module");
      case Kind::Unreadable: return QStringLiteral("unreadable");
    }
  }
  if (role == NameRole) return n.name;
  if (role == FileRole && (n.kind == Kind::Module || n.kind == Kind::Unreadable)) return file(n.info);
  if (role == Qt::ToolTipRole && (n.kind == Kind::Module || n.kind == Kind::Unreadable)) return tooltipFor(n.info);
  if (role == Qt::FontRole && n.kind == Kind::Category && column == NameColumn) {
    QFont font;
    font.setBold(true);
    return font;
  }
  if (role == Qt::DecorationRole && n.kind == Kind::Unreadable && column == NameColumn)
    return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
  if (column == NameColumn) {
    if (role == Qt::DisplayRole)
      return n.kind == Kind::Module && !n.info.fits ? n.name + tr(" (not for this model)") : n.name;
    if (role == Qt::CheckStateRole && n.kind == Kind::Module) return n.info.fits && n.checked ? Qt::Checked : Qt::Unchecked;
    return {};
  }
  // The strength, policy and weight columns have editors on them (the panel's sliders and boxes);
  // their values are EditRole only, so nothing is painted under an editor.
  if (role != Qt::EditRole) return {};
  if (column == TargetColumn) return n.kind == Kind::Group ? QVariant(sharesText(n.shares)) : QVariant();
  if (n.kind == Kind::Module) return column == RamColumn ? n.ram : n.sam;
  if (n.kind == Kind::Group) return column == SamColumn ? QVariant(n.weight) : QVariant(n.policy);
  return {};
}

bool ConceptSelectionModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  const int id = nodeOf(index);
  if (id < 0) return false;
  auto& n = nodes_[static_cast<std::size_t>(id)];
  const int column = index.column();
  if (n.kind == Kind::Module && column == NameColumn && role == Qt::CheckStateRole) {
    if (!n.info.fits) return false;
    const bool checked = value.toInt() == Qt::Checked;
    if (checked == n.checked) return true;
    n.checked = checked;
    Q_EMIT dataChanged(index, index, {Qt::CheckStateRole});
    Q_EMIT edited();
    return true;
  }
  if (role != Qt::EditRole) return false;
  if (column == TargetColumn) {
    const auto shares = parseShares(value.toString());
    return n.kind == Kind::Group && shares && setGroupShares(index, *shares);
  }
  if (n.kind == Kind::Module && column != NameColumn) {
    const int percent = std::clamp(value.toInt(), 0, kMaxPercent);
    (column == RamColumn ? n.ram : n.sam) = percent;
    Q_EMIT dataChanged(index, index);
    return true;
  }
  if (n.kind == Kind::Group && column == RamColumn) {
    const QString key = value.toString();
    const auto choices = policyChoices(index);
    if (std::none_of(choices.begin(), choices.end(), [&](const auto& c) { return c.first == key; })) return false;
    n.policy = key;
    Q_EMIT dataChanged(index, index);
    return true;
  }
  if (n.kind == Kind::Group && column == SamColumn) {
    const double weight = value.toDouble();
    if (!std::isfinite(weight) || weight < 0 || weight > respo::concepts::kMaxStrength) return false;
    n.weight = weight;
    Q_EMIT dataChanged(index, index);
    return true;
  }
  return false;
}

Qt::ItemFlags ConceptSelectionModel::flags(const QModelIndex& index) const {
  const int id = nodeOf(index);
  if (id < 0) return Qt::NoItemFlags;
  const auto& n = nodes_[static_cast<std::size_t>(id)];
  switch (n.kind) {
    case Kind::Category: return Qt::ItemIsEnabled;
    case Kind::Group: return Qt::ItemIsEnabled | (index.column() == NameColumn ? Qt::NoItemFlags : Qt::ItemIsEditable);
    case Kind::Unreadable: return Qt::NoItemFlags;
    case Kind::Module: {
      if (index.column() == TargetColumn) return Qt::NoItemFlags;
      Qt::ItemFlags f = index.column() == NameColumn ? Qt::ItemIsUserCheckable : Qt::ItemIsEditable;
      if (n.info.fits) f |= Qt::ItemIsEnabled;
      return f;
    }
  }
  return Qt::NoItemFlags;
}

QVariant ConceptSelectionModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn: return tr("Concept");
    case RamColumn: return tr("RAM");
    case SamColumn: return tr("SAM");
    case TargetColumn: return tr("Target");
    default: return {};
  }
}

}  // namespace respo::ui
